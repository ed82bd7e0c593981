"""Chunked pairwise distances: never an N x M matrix larger than one chunk."""

import torch


def sq_dists(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances between rows of a and b, clamped at 0 (no negative noise)."""
    d = (a * a).sum(1, keepdim=True) - 2.0 * a @ b.T + (b * b).sum(1)[None, :]
    return d.clamp_min_(0.0)


def min_sq_dists(points: torch.Tensor, centers: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """For every point, the squared distance to its nearest center (chunked over both).

    min_j ||p - c_j||^2 = ||p||^2 + min_j (||c_j||^2 - 2 p.c_j): one `addmm` per block of
    chunk x chunk pairs and a row minimum; the point norms are added once per point, after
    the minimum. Clamped at 0. Out-of-place, so it is differentiable in both arguments
    (DMLE's CoreSet score).
    """
    if len(centers) == 0:
        return torch.full((len(points),), float("inf"), device=points.device, dtype=points.dtype)
    center_norms = (centers * centers).sum(1)
    parts = []
    for i in range(0, len(points), chunk):
        p, best = points[i : i + chunk], None
        for j in range(0, len(centers), chunk):
            c = centers[j : j + chunk]
            d = torch.addmm(center_norms[j : j + chunk], p, c.T, alpha=-2.0).amin(1)
            best = d if best is None else torch.minimum(best, d)
        parts.append((best + (p * p).sum(1)).clamp_min(0.0))
    return torch.cat(parts) if parts else points.new_zeros(0)
