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


class BackboneClassifier(ALModel):
    """A feature backbone (its own classifier removed), dropout, and a linear head.

    Dropout sits only between the backbone and the head, so MC dropout runs the backbone
    once (`mc_trunk`) and re-samples the cheap tail for every pass.
    """

    def __init__(self, backbone: nn.Module, feature_dim: int, num_classes: int, dropout: float):
        super().__init__()
        self.backbone = backbone
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(feature_dim, num_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.backbone(x))

    def mc_trunk(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)

    def mc_tail(self, h: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(h))
