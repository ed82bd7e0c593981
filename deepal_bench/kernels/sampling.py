"""Device-agnostic sampling helpers driven by a CPU torch.Generator."""

import torch

_BLOCK = 1024


def sample_proportional(
    weights: torch.Tensor, gen: torch.Generator, exclude: torch.Tensor | None = None
) -> int:
    """One index drawn with probability proportional to non-negative `weights`.

    Inverse-CDF sampling with one float64 uniform from `gen` (CPU), so the weights may live
    on any device. Two-level search: float64 sums of blocks of 1,024 weights locate the
    block, a float64 cumulative sum inside that block the index (O(N) reads, no N-long
    float64 copy). When all weights are zero, draws uniformly among positions not in
    `exclude`.
    """
    w = weights.detach().clamp_min(0.0)
    size = len(w)
    pad = (-size) % _BLOCK
    padded = torch.nn.functional.pad(w, (0, pad)) if pad else w
    sums = padded.view(-1, _BLOCK).sum(1, dtype=torch.float64)
    csum = torch.cumsum(sums, 0)
    total = float(csum[-1])
    if total > 0.0:
        target = torch.rand(1, generator=gen, dtype=torch.float64).item() * total
        key = torch.tensor([target], dtype=torch.float64, device=csum.device)
        block = min(int(torch.searchsorted(csum, key, right=True)), len(sums) - 1)
        block = int(torch.nonzero(sums[: block + 1] > 0).max())  # guards float rounding
        start = block * _BLOCK
        inner = padded[start : start + _BLOCK].double()
        offset = float(csum[block - 1]) if block > 0 else 0.0
        key = torch.tensor([target - offset], dtype=torch.float64, device=inner.device)
        idx = int(torch.searchsorted(torch.cumsum(inner, 0), key, right=True))
        last = int(torch.nonzero(inner > 0).max())
        return start + min(idx, last)
    allowed = torch.ones(size, dtype=torch.bool)
    if exclude is not None:
        allowed[exclude.cpu()] = False
    candidates = torch.nonzero(allowed).flatten()
    return int(candidates[torch.randint(len(candidates), (1,), generator=gen)])
