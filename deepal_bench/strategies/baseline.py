"""Random sampling: the baseline every table is relative to."""

import torch

from deepal_bench.strategies.base import BatchStrategy, QueryContext
from deepal_bench.strategies.registry import register


@register("random")
class RandomSampling(BatchStrategy):
    """Uniform sampling without replacement from the unlabeled pool."""

    def select(self, ctx: QueryContext, n: int) -> torch.Tensor:
        return torch.randperm(len(ctx.candidates), generator=ctx.generator)[:n]
