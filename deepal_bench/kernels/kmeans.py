"""k-means selection: cluster, then return per centroid the nearest *pool point*.

Three k-means back ends: scikit-learn (DeepAL+ "KMeans"), faiss (DeepAL+ "KMeans (GPU)") and
a weighted scikit-learn k-means (Zhdanov 2019 / CLUE, Prabhu et al. 2021). The faiss back end
runs faiss-cpu on CPU tensors and, for CUDA tensors, the same algorithm as faiss's `Kmeans`
written in torch (`lloyd`): faiss's GPU build is not on PyPI for the CUDA that torch uses,
and a second faiss copy breaks the first, so the GPU path needs no faiss at all. Centroids
are not pool points, and faiss centroid ids are not pool positions: `nearest_to_centroids`
maps each centroid to its nearest unused pool point, so the result is always `n` distinct
positions.

Defaults are DeepAL+'s (SineZHAN/deepALplus): scikit-learn `KMeans(n_clusters=n)` under
scikit-learn 1.0.2 (environment.yml) = k-means++ init, `n_init` 10 runs, `max_iter` 300
(query_strategies/kmeans_sampling.py); faiss `niter` 300 and `nredo` 10 runs
(query_strategies/kmeans_sampling_gpu.py, FaissKmeans). The best of the runs (lowest
inertia) is kept.
"""

import numpy as np
import torch

from deepal_bench.errors import unknown_choice
from deepal_bench.kernels.distances import sq_dists

BACKENDS = ("sklearn", "faiss")


def nearest_to_centroids(
    emb: torch.Tensor, centroids: torch.Tensor, chunk: int = 256
) -> torch.Tensor:
    """For each centroid in order, the nearest pool position not taken by an earlier one."""
    emb = emb.float()
    centroids = centroids.float().to(emb.device)
    n = min(len(centroids), len(emb))
    taken = torch.zeros(len(emb), dtype=torch.bool, device=emb.device)
    out = torch.empty(n, dtype=torch.long, device=emb.device)
    inf = torch.tensor(float("inf"), device=emb.device)
    for start in range(0, n, chunk):
        d = sq_dists(centroids[start : min(start + chunk, n)], emb)
        for row in range(len(d)):
            idx = torch.argmin(torch.where(taken, inf, d[row]))
            out[start + row] = idx
            taken[idx] = True
    return out


def seed_from(generator: torch.Generator) -> int:
    """A 31-bit seed for libraries that take integer seeds (scikit-learn, faiss)."""
    return int(torch.randint(2**31 - 1, (1,), generator=generator))


def kmeans_sklearn(
    emb: torch.Tensor,
    n: int,
    generator: torch.Generator,
    weights: torch.Tensor | None = None,
    max_iter: int = 300,
    n_init: int = 10,
) -> torch.Tensor:
    """`n` centroids of (optionally sample-weighted) k-means, scikit-learn's Lloyd/Elkan,
    best of `n_init` k-means++ runs."""
    from sklearn.cluster import KMeans

    x = emb.float().cpu().numpy()
    w = None if weights is None else weights.double().cpu().numpy()
    km = KMeans(n_clusters=n, n_init=n_init, max_iter=max_iter, random_state=seed_from(generator))
    km.fit(x, sample_weight=w)
    return torch.from_numpy(km.cluster_centers_.astype(np.float32)).to(emb.device)


def kmeans_faiss(
    emb: torch.Tensor,
    n: int,
    generator: torch.Generator,
    niter: int = 300,
    nredo: int = 10,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """`n` centroids of faiss k-means, best of `nredo` runs of `niter` iterations: faiss-cpu
    for CPU tensors, `lloyd` (the same algorithm in torch) for CUDA tensors."""
    if emb.is_cuda and weights is None:
        return lloyd(emb, n, generator, niter, nredo)
    import faiss

    x = np.ascontiguousarray(emb.float().cpu().numpy())
    w = None if weights is None else np.ascontiguousarray(weights.float().cpu().numpy())
    km = faiss.Kmeans(x.shape[1], n, niter=niter, nredo=nredo, seed=seed_from(generator))
    km.train(x, weights=w)
    return torch.from_numpy(km.centroids.copy()).to(emb.device)


MAX_POINTS_PER_CENTROID = 256  # faiss ClusteringParameters: larger sets are subsampled


def _assign(x: torch.Tensor, centroids: torch.Tensor, chunk: int = 65536):
    """(nearest centroid, squared distance) of every row of x, chunked over rows."""
    labels, dists = [], []
    c_norm = (centroids * centroids).sum(1)
    for start in range(0, len(x), chunk):
        part = x[start : start + chunk]
        d = c_norm[None, :] - 2.0 * part @ centroids.T
        best = d.min(1)
        labels.append(best.indices)
        dists.append((best.values + (part * part).sum(1)).clamp_min(0.0))
    return torch.cat(labels), torch.cat(dists)


def lloyd(
    emb: torch.Tensor, n: int, generator: torch.Generator, niter: int = 300, nredo: int = 10
) -> torch.Tensor:
    """faiss's `Kmeans.train` in torch, on the tensor's device: at most 256 points per
    centroid (a random subset beyond that), `nredo` runs from `n` random training points,
    `niter` Lloyd iterations each (an empty cluster keeps its centroid), the run with the
    lowest objective kept. Only the objective of each run is read back to the host."""
    x = emb.float()
    if len(x) > MAX_POINTS_PER_CENTROID * n:
        pick = torch.randperm(len(x), generator=generator)[: MAX_POINTS_PER_CENTROID * n]
        x = x[pick.to(x.device)]
    best, best_objective = None, float("inf")
    for _ in range(nredo):
        start = torch.randperm(len(x), generator=generator)[:n].to(x.device)
        centroids = x[start].clone()
        for _ in range(niter):
            labels, _ = _assign(x, centroids)
            sums = torch.zeros_like(centroids).index_add_(0, labels, x)
            counts = torch.bincount(labels, minlength=n).to(x.dtype)
            moved = sums / counts.clamp_min(1.0)[:, None]
            centroids = torch.where(counts[:, None] > 0, moved, centroids)
        objective = float(_assign(x, centroids)[1].sum())
        if objective < best_objective:
            best, best_objective = centroids, objective
    return best


def kmeans_select(
    emb: torch.Tensor,
    n: int,
    generator: torch.Generator,
    backend: str = "sklearn",
    weights: torch.Tensor | None = None,
    n_init: int = 10,
    max_iter: int = 300,
    niter: int = 300,
    nredo: int = 10,
) -> torch.Tensor:
    """`n` distinct pool positions: k-means with `n` clusters, nearest point per centroid.

    `backend` sklearn (`n_init` runs of at most `max_iter` iterations) or faiss (`nredo`
    runs of `niter` iterations); anything else is a ConfigError naming the choices.
    """
    if backend not in BACKENDS:
        raise unknown_choice("k-means backend", backend, BACKENDS)
    n = min(n, len(emb))
    if n == len(emb):
        return torch.arange(n, device=emb.device)
    if backend == "faiss":
        centroids = kmeans_faiss(emb, n, generator, niter, nredo, weights)
    else:
        centroids = kmeans_sklearn(emb, n, generator, weights, max_iter, n_init)
    return nearest_to_centroids(emb, centroids)
