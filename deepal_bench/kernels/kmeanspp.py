"""k-means++ seeding (Arthur & Vassilvitskii 2007) with a running minimum (O(N) memory)."""

import torch

from deepal_bench.kernels.distances import min_sq_dists
from deepal_bench.kernels.sampling import dsquared_seeding


def kmeanspp(
    emb: torch.Tensor,
    n: int,
    generator: torch.Generator,
    first: int | None = None,
    labeled: torch.Tensor | None = None,
) -> torch.Tensor:
    """`n` distinct positions of `emb` chosen by D^2 sampling.

    Each center is drawn with probability proportional to D^2, the squared distance to the
    nearest chosen center (running minimum, O(N) memory, one matrix-vector product per
    center on mean-centred points with cached norms). Duplicated points (all distances 0)
    fall back to uniform draws among unchosen points.

    `first` fixes the first center (RALIF's reference code starts from the best-scoring
    candidate); otherwise it is uniform (no `labeled`) or D^2-drawn. `labeled` (embeddings
    of already labeled points) makes D^2 the distance to the nearest of labeled ∪ chosen
    points: the running minimum starts at each point's distance to its nearest labeled
    point (chunked GEMM). Without both, the draws are those of plain k-means++.
    """
    x = emb.float()
    mean = x.mean(0)
    x = x - mean
    norms = torch.linalg.vector_norm(x, dim=1).square_()

    def dist_to(c: int, out: torch.Tensor) -> torch.Tensor:
        torch.addmv(norms, x, x[c], alpha=-2.0, out=out)
        return out.add_(norms[c]).clamp_min_(0.0)

    if labeled is None or len(labeled) == 0:
        initial = torch.full_like(norms, float("inf"))
    else:
        initial = min_sq_dists(x, labeled.to(x.device).float() - mean)
    return dsquared_seeding(dist_to, initial, n, generator, first=first)
