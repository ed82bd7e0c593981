"""The model contract: `forward -> logits`, `embed -> penultimate features`, a linear head."""

from typing import Literal

import torch
from torch import nn

from deepal_bench.errors import ConfigError

# How MC passes sample (`model.mc_sampling`): `dropout` = only dropout modules sample,
# BatchNorm uses its running statistics; `train_mode` = the whole model in train mode for
# every pass (DeepAL+'s predict_prob_dropout_split: BatchNorm uses batch statistics).
McSampling = Literal["dropout", "train_mode"]
# What the query inputs go through (`model.query_transform`): `none` = the stored,
# evaluation-transformed tensors; `train` = the dataset's training augmentation, a fresh
# seeded draw for every pass (DeepAL+'s data.py get_unlabeled_data and get_train_data build
# the query loaders with `transform_train`). A no-op on data without augmentation.
QueryTransform = Literal["none", "train"]


def dropout_layer(p: float) -> nn.Module:
    """`nn.Dropout(p)`, or `nn.Identity()` for p = 0 (then the model has no dropout)."""
    if not 0.0 <= p < 1.0:
        raise ConfigError(f"model.dropout must be in [0, 1), got {p}.")
    return nn.Dropout(p) if p > 0 else nn.Identity()


class ALModel(nn.Module):
    """A classifier split into a feature extractor (`embed`) and a linear head.

    Strategies need the penultimate features (k-center, BADGE) and the head's weights
    (gradient embeddings, influence functions); `forward_with_embedding` returns logits and
    features from one forward pass.
    """

    head: nn.Linear
    mc_sampling: McSampling = "dropout"
    query_transform: QueryTransform = "none"
    family = ""  # the architecture's name (default: the class name, lower case)

    @property
    def architecture(self) -> str:
        """The architecture as cost tables key it (deepal-bench-plan's throughput table):
        its family plus what changes its cost beyond FLOPs (ResNet18's stem, ...)."""
        return self.family or type(self).__name__.lower()

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

    def has_train_mode_batchnorm(self) -> bool:
        """True when `train()` puts a BatchNorm module in training mode (a frozen backbone
        that stays in eval mode does not count)."""
        was_training = self.training
        self.train()
        found = any(
            isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in self.modules()
        )
        self.train(was_training)
        return found

    def can_mc_sample(self) -> bool:
        """True when MC passes under `mc_sampling` run another function than the eval-mode
        forward: dropout with p > 0, or `train_mode` with BatchNorm (batch statistics).

        Without dropout, train-mode passes over the same batches are equal: DeepAL+'s
        ResNet18 "D" strategies differ between passes only through the training
        augmentation of their query inputs (deepALplus data.py get_unlabeled_data uses
        transform_train; here `query_transform: train`), none for MNIST, FashionMNIST,
        EMNIST and SVHN.
        """
        if self.has_dropout():
            return True
        return self.mc_sampling == "train_mode" and self.has_train_mode_batchnorm()


class BackboneClassifier(ALModel):
    """A feature backbone (its own classifier removed), dropout, and a linear head.

    Dropout sits only between the backbone and the head, so MC dropout runs the backbone
    once (`mc_trunk`) and re-samples the cheap tail for every pass.
    """

    def __init__(self, backbone: nn.Module, feature_dim: int, num_classes: int, dropout: float):
        super().__init__()
        self.backbone = backbone
        self.dropout = dropout_layer(dropout)
        self.head = nn.Linear(feature_dim, num_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.backbone(x))

    def mc_trunk(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)

    def mc_tail(self, h: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(h))
