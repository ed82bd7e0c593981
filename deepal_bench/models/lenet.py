"""LeNet-5 for 1- or 3-channel 28/32 px images, with dropout in the fully connected part."""

import torch
from torch import nn

from deepal_bench.errors import unknown_choice
from deepal_bench.models.base import ALModel, dropout_layer

POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


class LeNet(ALModel):
    """conv(6,5x5)-pool-conv(16,5x5)-pool-fc120-fc84-head (LeCun et al. 1998), dropout p.

    `pool`: `max` (default) or `avg`, 2x2 subsampling after each convolution; LeCun et al.
    1998 subsample by averaging, and the DMLE authors' Keras LeNet for MNIST and SVHN uses
    AveragePooling2D without dropout (neu-spiral/DMLEforAL model.py). `dropout` 0 builds no
    dropout layer.
    """

    family = "lenet"

    def __init__(
        self,
        in_channels: int,
        image_size: int,
        num_classes: int,
        dropout: float = 0.5,
        pool: str = "max",
    ) -> None:
        super().__init__()
        if image_size not in (28, 32):
            raise ValueError(f"LeNet takes 28 or 32 px images, got {image_size}")
        if pool not in POOLS:
            raise unknown_choice("model.pool", pool, POOLS)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2 if image_size == 28 else 0),
            nn.ReLU(),
            POOLS[pool](2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            POOLS[pool](2),
            nn.Flatten(),
        )
        self.fc = nn.Sequential(
            nn.Linear(16 * 5 * 5, 120),
            nn.ReLU(),
            dropout_layer(dropout),
            nn.Linear(120, 84),
            nn.ReLU(),
            dropout_layer(dropout),
        )
        self.head = nn.Linear(84, num_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))

    def mc_trunk(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def mc_tail(self, h: torch.Tensor) -> torch.Tensor:
        return self.head(self.fc(h))

    def feature_taps(self) -> list[nn.Module]:
        """Both pooled conv maps and both fully connected activations."""
        return [self.features[2], self.features[5], self.fc[1], self.fc[4]]
