"""k-means++ seeding (Arthur & Vassilvitskii 2007) as chunk-free running minima."""

import torch

from deepal_bench.kernels.distances import sq_dists
from deepal_bench.kernels.sampling import sample_proportional


def kmeanspp(emb: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """`n` distinct positions of `emb` chosen by D^2 sampling.

    The first center is uniform; each next one is drawn with probability proportional to
    the squared distance to the nearest chosen center (running minimum, O(N) memory).
    Duplicated points (all distances 0) fall back to uniform draws among unchosen points.
    """
    n = min(n, len(emb))
    emb = emb.float()
    first = int(torch.randint(len(emb), (1,), generator=generator))
    return _dsquared_seeding(
        n, first, lambda c: sq_dists(emb, emb[c : c + 1]).squeeze(1), generator
    )


def _dsquared_seeding(n: int, first: int, dist_to, generator: torch.Generator) -> torch.Tensor:
    """Shared D^2 loop: `dist_to(c)` gives squared distances of all points to point c."""
    chosen = [first]
    min_d = dist_to(first)
    min_d[first] = 0.0
    for _ in range(n - 1):
        taken = torch.tensor(chosen)
        idx = sample_proportional(min_d, generator, exclude=taken)
        chosen.append(idx)
        min_d = torch.minimum(min_d, dist_to(idx))
        min_d[taken.to(min_d.device)] = 0.0
        min_d[idx] = 0.0
    return torch.tensor(chosen, dtype=torch.long, device=min_d.device)
