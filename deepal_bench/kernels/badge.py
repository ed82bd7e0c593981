"""BADGE (Ash et al. 2020): k-means++ over last-layer gradient embeddings.

The gradient of the cross-entropy at the pseudo-label y_hat = argmax p with respect to a
linear head's weights is g = (p - onehot(y_hat)) ⊗ h (BADGE eq. 1, h = penultimate
embedding). It factorises, so ||g_i - g_j||^2 = |a_i|^2 |h_i|^2 + |a_j|^2 |h_j|^2
- 2 (a_i . a_j)(h_i . h_j) with a = p - onehot(y_hat): distances to a center cost O(N (C + D))
and the N x C*D embedding matrix is never built.
"""

import torch

from deepal_bench.kernels.sampling import dsquared_seeding


def badge(
    probs: torch.Tensor, emb: torch.Tensor, n: int, generator: torch.Generator
) -> torch.Tensor:
    """`n` distinct pool positions by k-means++ seeding on gradient embeddings.

    The first center is the point with the largest gradient norm (as in the BADGE
    reference code); later ones are D^2-sampled with `generator`.
    """
    probs, emb = probs.float(), emb.float()
    a = probs.clone()
    a[torch.arange(len(a), device=a.device), probs.argmax(1)] -= 1.0
    sq_norm = (a * a).sum(1) * torch.linalg.vector_norm(emb, dim=1).square_()
    scratch = torch.empty_like(sq_norm)

    def dist_to(c: int, out: torch.Tensor) -> torch.Tensor:
        cross = torch.mv(emb, emb[c], out=out).mul_(torch.mv(a, a[c], out=scratch))
        return torch.add(sq_norm, sq_norm[c], out=scratch).sub_(cross, alpha=2.0).clamp_min_(0.0)

    initial = torch.full_like(sq_norm, float("inf"))
    return dsquared_seeding(dist_to, initial, n, generator, first=int(torch.argmax(sq_norm)))
