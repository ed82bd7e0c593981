"""ResNet18 (He et al. 2016) with the CIFAR 3x3 stem (no max-pool) or the ImageNet 7x7 stem.

DeepAL+ App. D.2: the 7x7 stem for MNIST/FashionMNIST/EMNIST/SVHN/Waterbird, the 3x3
stem (pytorch-cifar) for CIFAR and Tiny ImageNet. Dropout before the head enables MC dropout.
"""

import torch
import torchvision
from torch import nn

from deepal_bench.errors import unknown_choice
from deepal_bench.models.base import ALModel
from deepal_bench.models.weights import load_pretrained

STEMS = ("cifar", "imagenet")


class ResNet18(ALModel):
    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        stem: str = "cifar",
        dropout: float = 0.3,
        pretrained: bool = False,
    ) -> None:
        super().__init__()
        if stem not in STEMS:
            raise unknown_choice("model.stem", stem, STEMS)
        net = torchvision.models.resnet18(weights=None)
        if pretrained:
            load_pretrained(net, torchvision.models.ResNet18_Weights.IMAGENET1K_V1)
        if stem == "cifar":
            net.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
            net.maxpool = nn.Identity()
        elif in_channels != 3:
            net.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        net.fc = nn.Identity()
        self.backbone = net
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(512, num_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.backbone(x))

    def mc_trunk(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x)

    def mc_tail(self, h: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(h))

class ResNet50(ALModel):
    """ResNet-50 (He et al. 2016) with global average pooling, for the DMLE CIFAR-10 setting.

    DMLE §5.1 / the authors' code: ImageNet weights with the backbone frozen and a linear
    head (`pretrained: true`, `freeze: true`); images keep their size (32 px: 1x1 final map).
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        dropout: float = 0.0,
        pretrained: bool = False,
        freeze: bool = False,
    ) -> None:
        super().__init__()
        net = torchvision.models.resnet50(weights=None)
        if pretrained:
            load_pretrained(net, torchvision.models.ResNet50_Weights.IMAGENET1K_V1)
        if in_channels != 3:
            net.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        net.fc = nn.Identity()
        if freeze:
            for p in net.parameters():
                p.requires_grad_(False)
        self.backbone = net
        self.frozen = freeze
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2048, num_classes)

    def train(self, mode: bool = True) -> "ResNet50":
        """A frozen backbone stays in eval mode (its BatchNorm statistics are not updated)."""
        super().train(mode)
        if self.frozen:
            self.backbone.eval()
        return self

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.backbone(x))
