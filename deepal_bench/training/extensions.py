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
