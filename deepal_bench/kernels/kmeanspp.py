"""k-means++ seeding (Arthur & Vassilvitskii 2007) with a running minimum (O(N) memory)."""

import torch

from deepal_bench.kernels.sampling import sample_proportional


def kmeanspp(emb: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """`n` distinct positions of `emb` chosen by D^2 sampling.

    The first center is uniform; each next one is drawn with probability proportional to
    the squared distance to the nearest chosen center (running minimum, O(N) memory, one
    matrix-vector product per center on mean-centred points with cached norms).
    Duplicated points (all distances 0) fall back to uniform draws among unchosen points.
    """
    n = min(n, len(emb))
    x = emb.float()
    x = x - x.mean(0)
    norms = torch.linalg.vector_norm(x, dim=1).square_()

    def dist_to(c: int) -> torch.Tensor:
        return (norms - 2.0 * (x @ x[c]) + norms[c]).clamp_min_(0.0)

    first = int(torch.randint(len(emb), (1,), generator=generator))
    return _dsquared_seeding(n, first, dist_to, generator)


def _dsquared_seeding(n: int, first: int, dist_to, generator: torch.Generator) -> torch.Tensor:
    """Shared D^2 loop: `dist_to(c)` gives squared distances of all points to point c.

    A chosen point's running minimum is set to exactly 0 (not float noise), so it is never
    drawn again; `exclude` only matters for the all-zero fallback.
    """
    chosen = [first]
    min_d = dist_to(first)
    min_d[first] = 0.0
    for _ in range(n - 1):
        idx = sample_proportional(min_d, generator, exclude=torch.tensor(chosen))
        chosen.append(idx)
        torch.minimum(min_d, dist_to(idx), out=min_d)
        min_d[idx] = 0.0
    return torch.tensor(chosen, dtype=torch.long, device=min_d.device)
