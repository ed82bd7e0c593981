"""Device-agnostic sampling helpers driven by a CPU torch.Generator, and the D^2 seeding loop
shared by k-means++ and BADGE."""

from collections.abc import Callable, Sequence

import torch

_BLOCK = 1024

DistanceTo = Callable[[int, torch.Tensor], torch.Tensor]
"""`dist_to(c, out)`: squared distances of all points to point c, valid until the next call
(`out`, a float buffer of the same length, may be written and returned)."""


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
    pad = (-len(w)) % _BLOCK
    padded = torch.nn.functional.pad(w, (0, pad)) if pad else w
    return _sample_padded(padded, len(w), gen, exclude)


def _sample_padded(
    padded: torch.Tensor,
    size: int,
    gen: torch.Generator,
    exclude: torch.Tensor | Sequence[int] | None,
) -> int:
    """`sample_proportional` on non-negative weights zero-padded to a multiple of 1,024."""
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
        allowed[torch.as_tensor(exclude, dtype=torch.long).cpu()] = False
    candidates = torch.nonzero(allowed).flatten()
    return int(candidates[torch.randint(len(candidates), (1,), generator=gen)])


def shuffled_argsort(
    scores: torch.Tensor, generator: torch.Generator, descending: bool = False
) -> torch.Tensor:
    """The positions of `scores` in sorted order, ties in the order of a random permutation
    drawn from `generator` (CPU), never by pool position: a flat score vector (a model that
    has learnt nothing) gives a seeded random order, as top-k selection breaks its ties.
    NaN sorts as larger than every number (last when ascending)."""
    shuffle = torch.randperm(len(scores), generator=generator).to(scores.device)
    return shuffle[torch.sort(scores[shuffle], descending=descending, stable=True).indices]


def dsquared_seeding(
    dist_to: DistanceTo,
    initial: torch.Tensor,
    n: int,
    generator: torch.Generator,
    first: int | None = None,
) -> torch.Tensor:
    """`n` distinct positions by D^2 sampling (the k-means++ seeding loop, Arthur &
    Vassilvitskii 2007), over as many points as `initial` has entries.

    D^2 is a running minimum: `initial` holds each point's squared distance to its nearest
    existing centre (e.g. the labeled points), +inf where there is none; each chosen point
    lowers it through one `dist_to` call. The first point is `first` if given, otherwise
    drawn by D^2 when `initial` is finite, otherwise uniform. A chosen point's D^2 is set to
    exactly 0 (not float noise), so it is never drawn again; when all D^2 are 0 (duplicated
    points) the draw falls back to uniform among the unchosen points.
    """
    size = len(initial)
    n = min(n, size)
    padded = initial.new_zeros(size + (-size) % _BLOCK)
    min_d = padded[:size]
    min_d.copy_(initial.detach()).clamp_min_(0.0)
    scratch = torch.empty_like(min_d)
    chosen: list[int] = []
    if first is None and n > 0:
        if bool(torch.isinf(min_d).all()):
            first = int(torch.randint(size, (1,), generator=generator))
        else:
            first = _sample_padded(padded, size, generator, None)
    idx = first
    for k in range(n):
        chosen.append(idx)
        torch.minimum(min_d, dist_to(idx, scratch), out=min_d)
        min_d[idx] = 0.0
        if k + 1 < n:
            idx = _sample_padded(padded, size, generator, chosen)
    return torch.tensor(chosen, dtype=torch.long, device=initial.device)
