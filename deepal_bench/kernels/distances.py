"""Chunked pairwise distances: never an N x M matrix larger than one chunk."""

import torch


def sq_dists(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances between rows of a and b, clamped at 0 (no negative noise)."""
    d = (a * a).sum(1, keepdim=True) - 2.0 * a @ b.T + (b * b).sum(1)[None, :]
    return d.clamp_min_(0.0)


def min_sq_dists(points: torch.Tensor, centers: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """For every point, the squared distance to its nearest center (chunked over both)."""
    out = torch.full((len(points),), float("inf"), device=points.device, dtype=points.dtype)
    if len(centers) == 0:
        return out
    for i in range(0, len(points), chunk):
        p = points[i : i + chunk]
        best = out[i : i + chunk]
        for j in range(0, len(centers), chunk):
            best = torch.minimum(best, sq_dists(p, centers[j : j + chunk]).min(1).values)
        out[i : i + chunk] = best
    return out
