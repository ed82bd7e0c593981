"""Greedy k-center (Sener & Savarese 2018, CoreSet's greedy 2-approximation, their Alg. 1)."""

import torch

from deepal_bench.kernels.distances import min_sq_dists


def kcenter_greedy(pool_emb: torch.Tensor, labeled_emb: torch.Tensor, n: int) -> torch.Tensor:
    """Pick `n` pool positions, each the farthest from all labeled and already chosen points.

    Keeps a running minimum of squared distances per pool point (O(N) memory, chunked
    distances to the labeled set, no N x N matrix). Points are centred on the pool mean first
    (distances are translation invariant; ||a||^2 - 2ab + ||b||^2 then keeps its precision for
    large-norm embeddings) and squared distances are clamped at 0, so float noise never makes
    a near-duplicate of a labeled point look far or NaN. With no labeled
    points the first pick is the point farthest from the pool mean. Returns a LongTensor of
    distinct positions into `pool_emb`.
    """
    n = min(n, len(pool_emb))
    mean = pool_emb.float().mean(0)
    pool = pool_emb.float() - mean
    norms = torch.linalg.vector_norm(pool, dim=1).square_()
    if len(labeled_emb):
        labeled = labeled_emb.to(pool.device).float() - mean
        min_d = min_sq_dists(pool, labeled)
    else:
        min_d = norms.clone()
    chosen = torch.empty(n, dtype=torch.long, device=pool.device)
    for k in range(n):
        idx = torch.argmax(min_d)
        chosen[k] = idx
        d = (norms - 2.0 * (pool @ pool[idx]) + norms[idx]).clamp_min_(0.0)
        torch.minimum(min_d, d, out=min_d)
        min_d[idx] = -1.0
    return chosen
