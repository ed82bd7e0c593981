"""Training augmentation as batched tensor ops on normalised N x C x H x W images.

Per-dataset defaults follow DeepAL+ App. D.2: random crop with padding 4 and horizontal
flip (p=0.5) for CIFAR10/100; random rotation (20 degrees) and horizontal flip for Tiny
ImageNet; rotation 90, flip p=0.8, random resized crop and colour jitter 0.4 for BreakHis;
flip + rotation 10 + translation 0.05 for PneumoniaMNIST; flip for Waterbirds. Padding and
uncovered corners are black (0 before normalisation), as torchvision's PIL transforms do.
"""

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from deepal_bench.data.transfer import host_to_device
from deepal_bench.errors import ConfigError

AUGMENT_KEYS = ("crop_pad", "hflip", "rotate", "translate", "resized_crop", "jitter")
_GRAY = (0.299, 0.587, 0.114)  # ITU-R 601 luma, as torchvision's rgb_to_grayscale


@dataclass
class ImageAugment:
    """Batched augmentation of normalised images, done in raw pixel space [0, 1]:

    `crop_pad` px random crop after zero padding; one affine resampling for rotation
    uniform in [-rotate, rotate] degrees, translation uniform in [-translate, translate] of
    the image size and `resized_crop: [lo, hi]` (a random window of area fraction in
    [lo, hi], aspect ratio in [3/4, 4/3], scaled to the full size); horizontal flip with
    probability `hflip`; `jitter: [brightness, contrast, saturation]` colour factors uniform
    in [1 - v, 1 + v] (applied in that order; torchvision's order is random). `mean`/`std`
    are the normalisation statistics.

    Random draws come from the (CPU) generator and reach a CUDA batch through pinned,
    non-blocking copies, so augmenting never waits for queued GPU work.
    """

    crop_pad: int = 0
    hflip: float = 0.0
    rotate: float = 0.0
    translate: float = 0.0
    resized_crop: tuple[float, float] | None = None
    jitter: tuple[float, float, float] | None = None
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)
    _stats: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def statistics(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`mean` and `std` as 1 x C x 1 x 1 tensors on the device and dtype of `like`, made
        once per device and dtype."""
        key = (like.device, like.dtype)
        if key not in self._stats:
            self._stats[key] = tuple(
                host_to_device(torch.tensor(v, dtype=like.dtype).view(1, -1, 1, 1), like.device)
                for v in (self.mean, self.std)
            )
        return self._stats[key]

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        mean, std = self.statistics(x)
        x = x * std + mean
        if self.crop_pad:
            x = _random_crop(x, self.crop_pad, gen)
        if self.rotate or self.translate or self.resized_crop:
            x = _random_affine(x, self.rotate, self.translate, self.resized_crop, gen)
        if self.hflip:
            flip = host_to_device(torch.rand(len(x), generator=gen) < self.hflip, x.device)
            x = torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)
        if self.jitter:
            x = _colour_jitter(x, self.jitter, gen)
        return (x - mean) / std


def _random_crop(x: torch.Tensor, pad: int, gen: torch.Generator) -> torch.Tensor:
    """Per-sample h x w windows of the padded batch, as two gathers (rows, then columns)."""
    n, c, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    dy = host_to_device(torch.randint(0, 2 * pad + 1, (n,), generator=gen), x.device)
    dx = host_to_device(torch.randint(0, 2 * pad + 1, (n,), generator=gen), x.device)
    rows = dy[:, None] + torch.arange(h, device=x.device)
    cols = dx[:, None] + torch.arange(w, device=x.device)
    out = padded.gather(2, rows[:, None, :, None].expand(n, c, h, w + 2 * pad))
    return out.gather(3, cols[:, None, None, :].expand(n, c, h, w))


def _uniform(n: int, low: float, high: float, gen: torch.Generator) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=gen)


def _random_affine(
    x: torch.Tensor,
    degrees: float,
    translate: float,
    window: tuple[float, float] | None,
    gen: torch.Generator,
) -> torch.Tensor:
    """input = R(angle) diag(fw, fh) output + shift, in grid units ([-1, 1] spans the image)."""
    n = len(x)
    angle = _uniform(n, -math.radians(degrees), math.radians(degrees), gen)
    shift = _uniform(2 * n, -2 * translate, 2 * translate, gen).view(n, 2)
    fw = fh = torch.ones(n)
    if window:
        area = _uniform(n, float(window[0]), float(window[1]), gen)
        ratio = torch.exp(_uniform(n, math.log(3 / 4), math.log(4 / 3), gen))
        fw, fh = (area * ratio).sqrt().clamp(max=1.0), (area / ratio).sqrt().clamp(max=1.0)
        # outermost sample c + f (1 - 1/size) stays within the outermost pixel centres
        h, w = x.shape[-2:]
        reach = torch.stack([(1 - fw) * (1 - 1 / w), (1 - fh) * (1 - 1 / h)], 1)
        centre = reach * (2 * torch.rand(n, 2, generator=gen) - 1)
        shift = shift + centre
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack(
        [
            torch.stack([cos * fw, -sin * fh, shift[:, 0]], 1),
            torch.stack([sin * fw, cos * fh, shift[:, 1]], 1),
        ],
        1,
    ).to(x.dtype)
    theta = host_to_device(theta, x.device)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _colour_jitter(
    x: torch.Tensor, strength: tuple[float, float, float], gen: torch.Generator
) -> torch.Tensor:
    """Brightness (scale), contrast (blend with the mean grey level), saturation (blend with
    the greyscale image; RGB only), each factor uniform in [max(0, 1 - v), 1 + v]."""
    n = len(x)
    factors = [
        host_to_device(_uniform(n, max(0.0, 1 - v), 1 + v, gen).to(x.dtype), x.device).view(
            n, 1, 1, 1
        )
        for v in strength
    ]

    def grey(img: torch.Tensor) -> torch.Tensor:
        if img.shape[1] != 3:
            return img.mean(1, keepdim=True)
        weights = host_to_device(torch.tensor(_GRAY, dtype=img.dtype), img.device)
        return (img * weights.view(1, 3, 1, 1)).sum(1, keepdim=True)

    x = (x * factors[0]).clamp(0, 1)
    level = grey(x).mean((2, 3), keepdim=True)
    x = ((x - level) * factors[1] + level).clamp(0, 1)
    if x.shape[1] == 3:
        g = grey(x)
        x = ((x - g) * factors[2] + g).clamp(0, 1)
    return x


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
    spec = dict(spec)
    for key, length in (("resized_crop", 2), ("jitter", 3)):
        if spec.get(key) is not None:
            value = spec[key]
            spec[key] = (
                tuple(value) if isinstance(value, list | tuple) else (float(value),) * length
            )
            if len(spec[key]) != length:
                raise ConfigError(f"dataset.augment.{key} needs {length} numbers, got {value}.")
    return ImageAugment(**spec, mean=tuple(mean), std=tuple(std))
