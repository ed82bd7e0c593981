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

    def feature_taps(self) -> list[nn.Module]:
        """The four residual stages, as in Yoo & Kweon 2019 Fig. 2 (both stems)."""
        net = self.backbone
        return [net.layer1, net.layer2, net.layer3, net.layer4]
