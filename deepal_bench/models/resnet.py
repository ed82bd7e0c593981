"""ResNet18 (He et al. 2016) with a 3x3 stem or the ImageNet 7x7 stem.

Stems: `imagenet` = torchvision's 7x7 stride-2 convolution and max-pool; `cifar` = a 3x3
stride-1 convolution without the max-pool (pytorch-cifar); `cifar_maxpool` = the 3x3
convolution with torchvision's max-pool kept, as DeepAL+'s code builds its CIFAR10_Net and
PneumoniaMNIST_Net (deepALplus nets.py: `features_tmp[0]` replaced, every other child of
torchvision's resnet18 kept). DeepAL+ App. D.2 gives the 7x7 stem for
MNIST/FashionMNIST/EMNIST/SVHN/Waterbird and a 3x3 first convolution for CIFAR, Tiny
ImageNet, BreakHis and PneumoniaMNIST; whether the max-pool stays it does not say, and the
authors' code keeps it.

Inputs with other than 3 channels: by default the first convolution is replaced by one
taking that many channels (pretrained weights of the 7x7 convolution are then lost). With
`adapter: true` the network keeps its 3-channel first convolution (and its pretrained
weights) and a learned 1x1 convolution, with bias, maps the input channels to 3 in front of
it: DeepAL+'s MNIST_Net (deepALplus nets.py lines 130-146: `self.conv = nn.Conv2d(1, 3,
kernel_size=1)` before the whole torchvision ResNet18), used for MNIST, FashionMNIST and
EMNIST with and without pre-training (utils.py get_net).

Dropout: our default puts Dropout(0.3) before the head so that MC-dropout strategies sample
with BatchNorm in eval mode. DeepAL+'s ResNet18 has no dropout (deepALplus nets.py:
features -> flatten -> Linear) and its MC strategies run the whole net in train mode
(`predict_prob_dropout_split`); reproduce it with `model.dropout=0` (no dropout layer) and
`model.mc_sampling=train_mode`.
"""

import torchvision
from torch import nn

from deepal_bench.errors import unknown_choice
from deepal_bench.models.base import BackboneClassifier
from deepal_bench.models.weights import load_pretrained

STEMS = ("cifar", "cifar_maxpool", "imagenet")
THREE_BY_THREE = ("cifar", "cifar_maxpool")  # stems with a 3x3 stride-1 first convolution


class _ResNet(BackboneClassifier):
    def feature_taps(self) -> list[nn.Module]:
        """The four residual stages, as in Yoo & Kweon 2019 Fig. 2 (both stems)."""
        net = self.backbone
        return [net.layer1, net.layer2, net.layer3, net.layer4]


class ResNet18(_ResNet):
    family = "resnet18"

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        stem: str = "cifar",
        dropout: float = 0.3,
        pretrained: bool = False,
        adapter: bool = False,
    ) -> None:
        if stem not in STEMS:
            raise unknown_choice("model.stem", stem, STEMS)
        net = torchvision.models.resnet18(weights=None)
        if pretrained:
            load_pretrained(net, torchvision.models.ResNet18_Weights.IMAGENET1K_V1)
        stem_channels = 3 if adapter else in_channels
        if stem in THREE_BY_THREE:
            net.conv1 = nn.Conv2d(stem_channels, 64, 3, stride=1, padding=1, bias=False)
        if stem == "cifar":
            net.maxpool = nn.Identity()
        elif stem == "imagenet" and stem_channels != 3:
            net.conv1 = nn.Conv2d(stem_channels, 64, 7, stride=2, padding=3, bias=False)
        if adapter:
            net.conv1 = nn.Sequential(nn.Conv2d(in_channels, 3, kernel_size=1), net.conv1)
        net.fc = nn.Identity()
        super().__init__(net, 512, num_classes, dropout)
        self.stem = stem

    @property
    def architecture(self) -> str:
        """`resnet18/cifar` (either 3x3 stem) or `resnet18/imagenet`: the stem changes the
        cost per FLOP; the max-pool's smaller maps are counted by the forward FLOPs."""
        return f"{self.family}/{'cifar' if self.stem in THREE_BY_THREE else self.stem}"


class ResNet50(_ResNet):
    """ResNet-50 (He et al. 2016) with global average pooling, for the DMLE CIFAR-10 setting.

    DMLE §5.1 / the authors' code: ImageNet weights with the backbone frozen and a linear
    head (`pretrained: true`, `freeze: true`); images keep their size (32 px: 1x1 final map).
    """

    family = "resnet50"

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        dropout: float = 0.0,
        pretrained: bool = False,
        freeze: bool = False,
    ) -> None:
        net = torchvision.models.resnet50(weights=None)
        if pretrained:
            load_pretrained(net, torchvision.models.ResNet50_Weights.IMAGENET1K_V1)
        if in_channels != 3:
            net.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        net.fc = nn.Identity()
        if freeze:
            for p in net.parameters():
                p.requires_grad_(False)
        super().__init__(net, 2048, num_classes, dropout)
        self.frozen = freeze

    def train(self, mode: bool = True) -> "ResNet50":
        """A frozen backbone stays in eval mode (its BatchNorm statistics are not updated)."""
        super().train(mode)
        if self.frozen:
            self.backbone.eval()
        return self

    @property
    def architecture(self) -> str:
        """`resnet50/frozen` for a frozen backbone (only the head trains), else `resnet50`."""
        return f"{self.family}/frozen" if self.frozen else self.family
