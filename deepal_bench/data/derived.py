"""Derived datasets as composable, seeded transforms of any dataset's training pool.

- `imbalance_indices`: class c keeps floor(n_c * r_c / max r) points (DeepAL+ §3.1
  CIFAR10-imb, ratios 1:2:...:10).
- `random_subset`: a uniform random subset of a given size (DMLE §5: 30,000 MNIST,
  3,000 CIFAR-10, 1,500 Tiny ImageNet, ...).
- `redundant`: RepeatedMNIST-style redundancy (FALCUN §4, after Kirsch et al. 2019): keep
  round(keep * N) unique images and fill the other slots with Gaussian-noised duplicates,
  so the pool keeps its size N.
- `add_noise`: additive Gaussian (mean 0, std 1) or salt-and-pepper noise on exactly
  round(fraction * N) points, default 10% (constrained/noisy-data study §3.6).

All take a torch.Generator and return new tensors; the caller keeps an `origin` index per
training row so records can be traced back to the source files.
"""

import math

import torch

from deepal_bench.errors import ConfigError, unknown_choice

NOISE_KINDS = ("gaussian", "salt_pepper")


def imbalance_indices(
    labels: torch.Tensor, ratios: list[float], gen: torch.Generator
) -> torch.Tensor:
    """Sorted positions keeping floor(n_c * ratios[c] / max(ratios)) points of class c."""
    num_classes = int(labels.max()) + 1 if len(labels) else 0
    if len(ratios) != num_classes or min(ratios) < 0 or max(ratios) <= 0:
        raise ConfigError(
            f"dataset.imbalance needs {num_classes} non-negative ratios (one per class, "
            f"at least one positive), got {list(ratios)}."
        )
    top = max(ratios)
    keep = []
    for c, ratio in enumerate(ratios):
        members = torch.nonzero(labels == c, as_tuple=False).flatten()
        k = math.floor(len(members) * ratio / top + 1e-9)
        keep.append(members[torch.randperm(len(members), generator=gen)[:k]])
    return torch.sort(torch.cat(keep)).values


def random_subset(n_total: int, size: int, gen: torch.Generator, key: str) -> torch.Tensor:
    """Sorted positions of a uniform random subset of `size` out of `n_total`."""
    if not 0 < int(size) <= n_total:
        raise ConfigError(f"{key}={size} must be between 1 and the set size ({n_total}).")
    return torch.sort(torch.randperm(n_total, generator=gen)[: int(size)]).values


def redundant(
    x: torch.Tensor, keep: float, std: float, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """RepeatedMNIST-style pool of the same size: (positions of the source row, new x).

    round(keep * N) unique rows are kept unchanged; each of the remaining rows is a copy of
    a kept row (cycling over a random order of the kept rows, so every kept row is copied
    floor or ceil times) plus N(0, std^2) noise (FALCUN §4).
    """
    n = len(x)
    n_unique = round(keep * n)
    if not 0 < keep <= 1 or n_unique < 1:
        raise ConfigError(f"dataset.redundancy keep={keep} must be in (0, 1] and keep >= 1 point.")
    unique = torch.sort(torch.randperm(n, generator=gen)[:n_unique]).values
    cycle = unique[torch.randperm(n_unique, generator=gen)]
    copies = cycle[torch.arange(n - n_unique) % n_unique]
    noise = torch.randn((len(copies), *x.shape[1:]), generator=gen) * std
    source = torch.cat([unique, copies])
    return source, torch.cat([x[unique], x[copies] + noise.to(x.dtype)])


def add_noise(
    x: torch.Tensor,
    kind: str,
    fraction: float,
    gen: torch.Generator,
    std: float = 1.0,
    amount: float = 0.05,
    low: float = 0.0,
    high: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Noise on exactly round(fraction * N) points: (noisy positions, new x).

    `gaussian` adds N(0, std^2) to every value of a chosen point; `salt_pepper` sets exactly
    round(amount * H * W) pixel positions of a chosen image (all channels) to `low` or
    `high` with equal chance (constrained/noisy-data study §3.6).
    """
    if kind not in NOISE_KINDS:
        raise unknown_choice("dataset.noise.kind", kind, NOISE_KINDS)
    if not 0 <= fraction <= 1:
        raise ConfigError(f"dataset.noise.fraction={fraction} must be in [0, 1].")
    chosen = torch.sort(torch.randperm(len(x), generator=gen)[: round(fraction * len(x))]).values
    out = x.clone()
    if kind == "gaussian":
        out[chosen] += torch.randn((len(chosen), *x.shape[1:]), generator=gen).to(x.dtype) * std
        return chosen, out
    if x.dim() != 4:
        raise ConfigError("dataset.noise.kind=salt_pepper needs image data (N x C x H x W).")
    n, c, h, w = len(chosen), *x.shape[1:]
    k = round(amount * h * w)
    pixels = torch.rand((n, h * w), generator=gen).argsort(dim=1)[:, :k]
    values = torch.where(torch.rand((n, k), generator=gen) < 0.5, low, high).to(x.dtype)
    flat = out[chosen].reshape(n, c, h * w)
    flat.scatter_(2, pixels[:, None, :].expand(n, c, k), values[:, None, :].expand(n, c, k))
    out[chosen] = flat.reshape(n, c, h, w)
    return chosen, out
