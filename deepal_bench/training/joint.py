"""Shared pieces of the trainer extensions that train on labeled and unlabeled data together.

Cost control (WAAL, VAAL): the reference implementations pair every labeled batch with an
unlabeled one and make an epoch a pass over the larger of the two sets, so each epoch
passes over the whole unlabeled pool. Here `epoch_size: labeled` (the default) makes an
epoch a pass over the labeled set, each labeled batch paired with an unlabeled batch drawn
from a cycling random permutation of the pool (so the pool is still covered evenly over
the steps); `epoch_size: pool` restores the reference setting.
"""

from typing import Literal

import torch

from deepal_bench.seeding import derive_seed
from deepal_bench.training.estimators import TrainContext

EpochSize = Literal["labeled", "pool"]


def unlabeled_of(context: TrainContext) -> torch.Tensor:
    """Dataset indices of the unlabeled pool (the complement of the labeled set if absent)."""
    if context.unlabeled is not None:
        return context.unlabeled.cpu()
    mask = torch.ones(len(context.data), dtype=torch.bool)
    mask[context.labeled.cpu()] = False
    return mask.nonzero().flatten()


def extension_seed(context: TrainContext, purpose: str) -> int:
    """A seed for an extension's own generator, derived from the round's seed."""
    base = context.seed if context.seed is not None else derive_seed(0, context.round)
    return derive_seed(base, purpose)


class CyclingBatches:
    """Batches of indices from successive random permutations of `indices`."""

    def __init__(self, indices: torch.Tensor, generator: torch.Generator) -> None:
        self.indices = indices.cpu()
        self.generator = generator
        self.order = torch.empty(0, dtype=torch.long)
        self.pos = 0

    def next(self, n: int) -> torch.Tensor:
        """The next `n` indices (empty when there are none to draw from)."""
        if len(self.indices) == 0:
            return torch.empty(0, dtype=torch.long)
        parts = []
        while n > 0:
            if self.pos >= len(self.order):
                perm = torch.randperm(len(self.indices), generator=self.generator)
                self.order, self.pos = self.indices[perm], 0
            take = self.order[self.pos : self.pos + n]
            parts.append(take)
            self.pos += len(take)
            n -= len(take)
        return torch.cat(parts) if parts else torch.empty(0, dtype=torch.long)


def repeated_labeled(context: TrainContext) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The reference "redundant trick": labeled points repeated in order until the labeled
    set (with these extra rows) is as large as the unlabeled pool (`epoch_size: pool`)."""
    labeled = context.labeled.cpu()
    extra = len(unlabeled_of(context)) - len(labeled)
    if extra <= 0 or len(labeled) == 0:
        return None
    idx = labeled[torch.arange(extra) % len(labeled)].to(context.data.x_train.device)
    return context.data.x_train[idx], context.data.y_train[idx]


def same_labeled(stored: torch.Tensor | None, labeled: torch.Tensor) -> bool:
    """Whether auxiliary state trained on `stored` belongs to the labeled set `labeled`."""
    return stored is not None and torch.equal(stored.cpu(), labeled.cpu())
