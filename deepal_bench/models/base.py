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

    def mc_trunk(self, x: torch.Tensor) -> torch.Tensor:
        """The deterministic part before the first dropout layer (identity by default).

        MC dropout computes it once per input and samples only `mc_tail`; a model overrides
        the pair when all its dropout layers sit after a fixed trunk (BatchNorm in eval mode
        is deterministic), which makes 10 passes cost little more than one.
        """
        return x

    def mc_tail(self, h: torch.Tensor) -> torch.Tensor:
        """Logits from the output of `mc_trunk` (the full forward by default)."""
        return self(h)

    @property
    def embedding_dim(self) -> int:
        return self.head.in_features

    def has_dropout(self) -> bool:
        """True when the model has a dropout module with p > 0 (needed for MC dropout)."""
        return any(isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0 for m in self.modules())
