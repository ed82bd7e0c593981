"""Training augmentation as batched tensor ops on normalised N x C x H x W images.

Per-dataset defaults follow DeepAL+ App. D.2: random crop with padding 4 and horizontal
flip (p=0.5) for CIFAR10/100; random rotation (20 degrees) and horizontal flip for Tiny
ImageNet; rotation 90 + flip p=0.8 for BreakHis; flip + rotation 10 + translation 0.05 for
PneumoniaMNIST; flip for Waterbirds. Padding and uncovered corners take the value of a
black pixel (0 before normalisation), as torchvision's transforms on PIL images do.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from deepal_bench.errors import ConfigError

AUGMENT_KEYS = ("crop_pad", "hflip", "rotate", "translate")


@dataclass
class ImageAugment:
    """`crop_pad` px random crop after padding, horizontal flip with probability `hflip`,
    rotation uniform in [-rotate, rotate] degrees and translation uniform in
    [-translate, translate] of the image size (one affine resampling)."""

    crop_pad: int = 0
    hflip: float = 0.0
    rotate: float = 0.0
    translate: float = 0.0
    fill: tuple[float, ...] = (0.0,)

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        fill = torch.tensor(self.fill, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        x = x - fill
        if self.crop_pad:
            x = _random_crop(x, self.crop_pad, gen)
        if self.rotate or self.translate:
            x = _random_affine(x, self.rotate, self.translate, gen)
        if self.hflip:
            flip = (torch.rand(len(x), generator=gen) < self.hflip).to(x.device)
            x = torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)
        return x + fill


def _random_crop(x: torch.Tensor, pad: int, gen: torch.Generator) -> torch.Tensor:
    """Per-sample h x w windows of the padded batch, as two gathers (rows, then columns)."""
    n, c, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen).to(x.device)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen).to(x.device)
    rows = dy[:, None] + torch.arange(h, device=x.device)
    cols = dx[:, None] + torch.arange(w, device=x.device)
    out = padded.gather(2, rows[:, None, :, None].expand(n, c, h, w + 2 * pad))
    return out.gather(3, cols[:, None, None, :].expand(n, c, h, w))


def _random_affine(
    x: torch.Tensor, degrees: float, translate: float, gen: torch.Generator
) -> torch.Tensor:
    n = len(x)
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(degrees)
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * translate * 2  # grid units span 2
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack(
        [torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1
    ).to(device=x.device, dtype=x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def build_augment(spec: dict | None, mean: list[float], std: list[float]) -> ImageAugment | None:
    """An ImageAugment from a `dataset.augment` mapping, or None when it is empty."""
    if not spec:
        return None
    unknown = sorted(set(spec) - set(AUGMENT_KEYS))
    if unknown:
        raise ConfigError(
            f"Unknown dataset.augment key(s) {', '.join(unknown)}. "
            f"Valid keys: {', '.join(AUGMENT_KEYS)}."
        )
    fill = tuple(-m / s for m, s in zip(mean, std, strict=True))
    return ImageAugment(**spec, fill=fill)
