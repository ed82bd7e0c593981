"""Hybrid uncertainty + diversity strategies."""

import torch

from deepal_bench import kernels
from deepal_bench.strategies.base import EMBEDDINGS, PROBS, BatchStrategy, QueryContext
from deepal_bench.strategies.registry import register


@register("badge")
class Badge(BatchStrategy):
    """BADGE (Ash et al. 2020): k-means++ seeding on last-layer gradient embeddings."""

    needs = frozenset({PROBS, EMBEDDINGS})

    def select(self, ctx: QueryContext, n: int) -> torch.Tensor:
        return kernels.badge(ctx.probs(), ctx.embeddings(), n, ctx.generator)
