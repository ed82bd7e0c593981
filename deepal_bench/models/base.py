"""The model contract: `forward -> logits`, `embed -> penultimate features`, a linear head."""

import torch
from torch import nn


class ALModel(nn.Module):
    """A classifier split into a feature extractor (`embed`) and a linear head.

    Strategies need the penultimate features (k-center, BADGE) and the head's weights
    (gradient embeddings, influence functions); `forward_with_embedding` returns logits and
    features from one forward pass.
    """

    head: nn.Linear

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward_with_embedding(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        emb = self.embed(x)
        return self.head(emb), emb

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))

    @property
    def embedding_dim(self) -> int:
        return self.head.in_features

    def feature_taps(self) -> list[nn.Module]:
        """Intermediate modules whose outputs feed LPL's loss-prediction module.

        Yoo & Kweon 2019 §3.2 attach the module to several feature levels of the backbone
        (the four ResNet stages); each model family declares its own levels, shallow to deep.
        An empty list means the model does not support LPL.
        """
        return []

    def has_dropout(self) -> bool:
        """True when the model has a dropout module with p > 0 (needed for MC dropout)."""
        return any(isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0 for m in self.modules())
