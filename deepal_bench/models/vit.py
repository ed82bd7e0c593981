"""Vision transformers: a small patch ViT trained from scratch (<= 64 px) and torchvision's
vit_b_16 for 224 px inputs (Dosovitskiy et al. 2021)."""

import math

import torch
import torchvision
from torch import nn

from deepal_bench.models.base import ALModel, BackboneClassifier, dropout_layer
from deepal_bench.models.weights import load_pretrained


class SmallViT(ALModel):
    """Patch embedding + class token + pre-norm transformer encoder; embed = class token."""

    family = "vit_small"

    def __init__(
        self,
        in_channels: int,
        image_size: int,
        num_classes: int,
        patch_size: int = 4,
        dim: int = 192,
        depth: int = 6,
        heads: int = 3,
        mlp_dim: int = 384,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if image_size > 64 or image_size % patch_size:
            raise ValueError(
                f"SmallViT takes images of at most 64 px divisible by patch_size={patch_size}, "
                f"got {image_size} px"
            )
        n_patches = (image_size // patch_size) ** 2
        self.patch = nn.Conv2d(in_channels, dim, patch_size, stride=patch_size)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, n_patches + 1, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(
            dim,
            heads,
            mlp_dim,
            dropout=dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.dropout = dropout_layer(dropout)
        self.head = nn.Linear(dim, num_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.patch(x).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.cls.expand(len(x), -1, -1), tokens], dim=1) + self.pos
        return self.dropout(self.norm(self.encoder(tokens)[:, 0]))

    def feature_taps(self) -> list[nn.Module]:
        """Up to four evenly spaced transformer blocks (token maps, pooled by LPL)."""
        return _spaced(list(self.encoder.layers))


class ViTB16(BackboneClassifier):
    """torchvision vit_b_16 (224 px, 3 channels); optional ImageNet weights loaded offline."""

    family = "vit_b_16"

    def __init__(self, num_classes: int, dropout: float = 0.1, pretrained: bool = False) -> None:
        net = torchvision.models.vit_b_16(weights=None, dropout=dropout)
        if pretrained:
            load_pretrained(net, torchvision.models.ViT_B_16_Weights.IMAGENET1K_V1)
        net.heads = nn.Identity()
        super().__init__(net, net.hidden_dim, num_classes, dropout)

    def mc_trunk(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def mc_tail(self, h: torch.Tensor) -> torch.Tensor:
        """The encoder has dropout of its own: every pass runs the whole network."""
        return self(h)

    def feature_taps(self) -> list[nn.Module]:
        """Blocks 3, 6, 9 and 12 of the encoder (token maps, pooled by LPL)."""
        return _spaced(list(self.backbone.encoder.layers))


def _spaced(blocks: list[nn.Module], n: int = 4) -> list[nn.Module]:
    """`n` evenly spaced blocks ending with the last one (all of them when fewer)."""
    if len(blocks) <= n:
        return blocks
    step = len(blocks) / n
    return [blocks[math.ceil(step * (i + 1)) - 1] for i in range(n)]
