"""Device-agnostic sampling helpers driven by a CPU torch.Generator."""

import torch


def sample_proportional(
    weights: torch.Tensor, gen: torch.Generator, exclude: torch.Tensor | None = None
) -> int:
    """One index drawn with probability proportional to non-negative `weights`.

    Inverse-CDF sampling with a uniform from `gen` (CPU), so the weights may live on any
    device. When all weights are zero, draws uniformly among positions not in `exclude`.
    """
    w = weights.double().clamp_min(0.0)
    total = float(w.sum())
    if total > 0.0:
        cdf = torch.cumsum(w, 0)
        target = torch.rand(1, generator=gen, dtype=torch.float64).item() * total
        idx = int(
            torch.searchsorted(
                cdf, torch.tensor([target], dtype=cdf.dtype, device=cdf.device), right=True
            )
        )
        return min(idx, len(w) - 1)
    allowed = torch.ones(len(w), dtype=torch.bool)
    if exclude is not None:
        allowed[exclude.cpu()] = False
    candidates = torch.nonzero(allowed).flatten()
    return int(candidates[torch.randint(len(candidates), (1,), generator=gen)])
