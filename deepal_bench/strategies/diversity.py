"""Representative sampling (DeepAL+ survey §2.1.2) in the penultimate embedding space."""

import torch

from deepal_bench import kernels
from deepal_bench.strategies.base import EMBEDDINGS, LABELED, BatchStrategy, QueryContext
from deepal_bench.strategies.registry import register
from deepal_bench.training.acquisition import DifferentiableScore, ScoreInput
from deepal_bench.typed import PositiveInt


@register("kcenter")
class KCenter(BatchStrategy):
    """Greedy k-center / CoreSet (Sener & Savarese 2018): farthest-first from labeled points.

    `pca_dim` projects pool and labeled embeddings onto the pool's top principal axes first
    (DeepAL+ App. D.2 uses 32); null keeps the full embedding (CoreSet's setting).
    """

    needs = frozenset({EMBEDDINGS, LABELED})

    def __init__(self, pca_dim: PositiveInt | None = None) -> None:
        self.pca_dim = pca_dim

    def differentiable_score(self) -> DifferentiableScore:
        """CoreSet's score (DMLE eq. 4): distance to the nearest labeled point."""
        return DifferentiableScore(self.name, ScoreInput.CORESET)

    def select(self, ctx: QueryContext, n: int) -> torch.Tensor:
        pool, labeled = ctx.embeddings(), ctx.labeled_embeddings()
        if self.pca_dim is not None:
            pool, labeled = kernels.pca_project(pool, self.pca_dim, labeled)
        return kernels.kcenter_greedy(pool, labeled, n)


@register("kmeans")
class KMeans(BatchStrategy):
    """DeepAL+ "KMeans": scikit-learn k-means with `n` clusters on the unlabeled embeddings;
    the pool point nearest each centroid is queried. Best of `n_init` k-means++ runs of at
    most `max_iter` iterations (DeepAL+'s scikit-learn 1.0.2 defaults: 10 and 300)."""

    needs = frozenset({EMBEDDINGS})

    def __init__(self, n_init: PositiveInt = 10, max_iter: PositiveInt = 300) -> None:
        self.n_init, self.max_iter = n_init, max_iter

    def select(self, ctx: QueryContext, n: int) -> torch.Tensor:
        return kernels.kmeans_select(
            ctx.embeddings(), n, ctx.generator, n_init=self.n_init, max_iter=self.max_iter
        )


@register("kmeans_faiss")
class KMeansFaiss(BatchStrategy):
    """DeepAL+ "KMeans (GPU)": faiss k-means (GPU index when available), nearest pool point
    per centroid (never the centroid id). Best of `nredo` runs of `niter` iterations
    (DeepAL+'s FaissKmeans: 10 and 300)."""

    needs = frozenset({EMBEDDINGS})

    def __init__(self, niter: PositiveInt = 300, nredo: PositiveInt = 10) -> None:
        self.niter, self.nredo = niter, nredo

    def select(self, ctx: QueryContext, n: int) -> torch.Tensor:
        return kernels.kmeans_select(
            ctx.embeddings(), n, ctx.generator, "faiss", niter=self.niter, nredo=self.nredo
        )
