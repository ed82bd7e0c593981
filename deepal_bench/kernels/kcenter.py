"""Greedy k-center (Sener & Savarese 2018, CoreSet's greedy 2-approximation, their Alg. 1)."""

import torch

from deepal_bench.kernels.distances import min_sq_dists, sq_dists


def kcenter_greedy(pool_emb: torch.Tensor, labeled_emb: torch.Tensor, n: int) -> torch.Tensor:
    """Pick `n` pool positions, each the farthest from all labeled and already chosen points.

    Keeps a running minimum distance per pool point (O(N) memory, chunked distances, no
    N x N matrix). With no labeled points the first pick is the point farthest from the
    pool mean. Returns a LongTensor of distinct positions into `pool_emb`.
    """
    n = min(n, len(pool_emb))
    pool_emb = pool_emb.float()
    if len(labeled_emb):
        min_d = min_sq_dists(pool_emb, labeled_emb.float())
    else:
        min_d = sq_dists(pool_emb, pool_emb.mean(0, keepdim=True)).squeeze(1)
    chosen = torch.empty(n, dtype=torch.long, device=pool_emb.device)
    for k in range(n):
        idx = torch.argmax(min_d)
        chosen[k] = idx
        min_d = torch.minimum(min_d, sq_dists(pool_emb, pool_emb[idx : idx + 1]).squeeze(1))
        min_d[idx] = -1.0
    return chosen
