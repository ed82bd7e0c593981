"""Mean-shift diversity down-selection (RALIF App. A.4): cluster with mean shift, then take
points closest to each centroid, per cluster in proportion to its size."""

import numpy as np
import torch


def meanshift_select(emb: torch.Tensor, n: int, quantile: float = 0.3) -> torch.Tensor:
    """`n` distinct positions; cluster quotas by largest remainder of n * size / total."""
    from sklearn.cluster import MeanShift, estimate_bandwidth

    size = len(emb)
    n = min(n, size)
    x = emb.double().cpu().numpy()
    bandwidth = estimate_bandwidth(x, quantile=quantile, random_state=0)
    ms = MeanShift(bandwidth=bandwidth if bandwidth > 0 else None).fit(x)
    labels, centres = ms.labels_, ms.cluster_centers_
    counts = np.bincount(labels, minlength=len(centres))
    raw = n * counts / size
    quota = np.floor(raw).astype(int)
    for c in np.argsort(-(raw - quota), kind="stable")[: n - quota.sum()]:
        quota[c] += 1
    chosen: list[int] = []
    for c in range(len(centres)):
        members = np.flatnonzero(labels == c)
        dist = ((x[members] - centres[c]) ** 2).sum(1)
        chosen.extend(members[np.argsort(dist, kind="stable")[: quota[c]]].tolist())
    return torch.tensor(chosen, dtype=torch.long, device=emb.device)
