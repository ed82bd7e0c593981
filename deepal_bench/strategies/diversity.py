"""Representative sampling (DeepAL+ survey §2.1.2) in the penultimate embedding space."""

import torch

from deepal_bench import kernels
from deepal_bench.strategies.base import EMBEDDINGS, BatchStrategy, QueryContext
from deepal_bench.strategies.registry import register


@register("kcenter")
class KCenter(BatchStrategy):
    """Greedy k-center / CoreSet (Sener & Savarese 2018): farthest-first from labeled points."""

    needs = frozenset({EMBEDDINGS})

    def select(self, ctx: QueryContext, n: int) -> torch.Tensor:
        return kernels.kcenter_greedy(ctx.embeddings(), ctx.labeled_embeddings(), n)
