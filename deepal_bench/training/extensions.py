"""Trainer extension points for enhancing strategies (CEAL, LPL, WAAL, VAAL, adversarial).

A strategy that changes training returns a `TrainerExtension` from
`Strategy.trainer_extension()`; the trainer calls its hooks and never needs copying:

- `setup(model, context)`: once per round before training (register forward hooks,
  build fresh auxiliary modules).
- `modules()`: extra modules optimised jointly with the model (their own parameter group).
- `extra_data(context)`: extra (x, y) training pairs for this round (pseudo-labels,
  adversarial examples); their dataset index in `TrainStep.indices` is -1.
- `loss(step)`: an extra loss term added to the estimator's loss (None for nothing).
- `on_epoch_end(epoch, context)`: after every epoch (detach schedules, critic updates).
- `teardown(model)`: after training (remove hooks).
"""

import torch
from torch import nn

from deepal_bench.models.base import ALModel
from deepal_bench.training.estimators import TrainContext, TrainStep


class TrainerExtension:
    """No-op base: override the hooks you need."""

    def setup(self, model: ALModel, context: TrainContext) -> None:
        """Called once per round before training."""

    def modules(self) -> dict[str, nn.Module]:
        return {}

    def extra_data(self, context: TrainContext) -> tuple[torch.Tensor, torch.Tensor] | None:
        return None

    def loss(self, step: TrainStep) -> torch.Tensor | None:
        return None

    def on_epoch_end(self, epoch: int, context: TrainContext) -> None:
        """Called after every epoch."""

    def teardown(self, model: ALModel) -> None:
        """Called once after training."""


class ChainExtension(TrainerExtension):
    """Several extensions as one: hooks in order, modules merged, extra data concatenated,
    losses summed (CEAL over a base strategy that has its own extension)."""

    def __init__(self, extensions: list[TrainerExtension]) -> None:
        self.extensions = extensions

    def setup(self, model: ALModel, context: TrainContext) -> None:
        for ext in self.extensions:
            ext.setup(model, context)

    def modules(self) -> dict[str, nn.Module]:
        return {
            f"{i}.{k}": m for i, ext in enumerate(self.extensions) for k, m in ext.modules().items()
        }

    def extra_data(self, context: TrainContext) -> tuple[torch.Tensor, torch.Tensor] | None:
        parts = [e for e in (ext.extra_data(context) for ext in self.extensions) if e is not None]
        if not parts:
            return None
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    def loss(self, step: TrainStep) -> torch.Tensor | None:
        terms = [t for t in (ext.loss(step) for ext in self.extensions) if t is not None]
        return sum(terms[1:], terms[0]) if terms else None

    def on_epoch_end(self, epoch: int, context: TrainContext) -> None:
        for ext in self.extensions:
            ext.on_epoch_end(epoch, context)

    def teardown(self, model: ALModel) -> None:
        for ext in self.extensions:
            ext.teardown(model)


def chain(*extensions: TrainerExtension | None) -> TrainerExtension | None:
    """The given extensions (Nones dropped) as one extension, or None if there are none."""
    present = [e for e in extensions if e is not None]
    return present[0] if len(present) == 1 else (ChainExtension(present) if present else None)


class LabeledExamples(TrainerExtension):
    """Extra inputs `x` trained with the labels of the dataset points `indices` (DFAL's
    adversarial examples of the queried points, labeled with the queried labels)."""

    def __init__(self, x: torch.Tensor, indices: torch.Tensor) -> None:
        self.x, self.indices = x, indices

    def extra_data(self, context: TrainContext) -> tuple[torch.Tensor, torch.Tensor]:
        y = context.data.y_train[self.indices.to(context.data.y_train.device)]
        return self.x.to(context.data.x_train.device), y
