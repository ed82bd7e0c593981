"""Cluster-Margin (Citovsky et al. 2021, Alg. 1): lowest-margin candidates, hierarchical
average-linkage clusters, round-robin over the clusters from the smallest up."""

import numpy as np
import torch
from scipy.cluster.hierarchy import fcluster, linkage


def cluster_margin(
    emb: torch.Tensor,
    margins: torch.Tensor,
    n: int,
    generator: torch.Generator,
    candidates_factor: float = 10.0,
    n_clusters: int | None = None,
) -> torch.Tensor:
    """`n` distinct positions.

    Takes the `candidates_factor * n` points with the smallest margin p_1 - p_2, clusters
    them once by average-linkage HAC in embedding space (cut into `n_clusters`, default n),
    sorts clusters by size ascending and visits them round-robin, drawing one random
    unselected member per visit. Memory is k_m^2 / 2 for the k_m candidates, never N^2.
    """
    size = len(emb)
    n = min(n, size)
    k_m = min(size, max(n, int(round(candidates_factor * n))))
    cand = torch.sort(margins.float().cpu(), stable=True).indices[:k_m]
    if k_m <= n or k_m < 2:
        return cand[:n].to(emb.device)
    x = emb[cand.to(emb.device)].double().cpu().numpy()
    labels = fcluster(linkage(x, method="average"), t=n_clusters or n, criterion="maxclust")
    clusters = [cand[torch.from_numpy(np.flatnonzero(labels == c))] for c in np.unique(labels)]
    clusters.sort(key=len)
    clusters = [c[torch.randperm(len(c), generator=generator)] for c in clusters]
    chosen: list[int] = []
    depth = 0
    while len(chosen) < n:
        for members in clusters:
            if depth < len(members) and len(chosen) < n:
                chosen.append(int(members[depth]))
        depth += 1
    return torch.tensor(chosen, dtype=torch.long, device=emb.device)
