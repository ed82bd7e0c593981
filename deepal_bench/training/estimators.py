"""The estimator seam: the training objective over the labeled set.

An estimator turns one training step into a loss. IMLE (the standard choice) is plain
cross-entropy over the labeled batch. Estimators that need the history of selections
(DMLE's dependency term, LURE's importance weights) read it from `TrainStep.context`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from omegaconf import DictConfig

from deepal_bench.data.dataset import ALData
from deepal_bench.models.base import ALModel
from deepal_bench.registry import Registry
from deepal_bench.selection import Selection, SelectionRecord
from deepal_bench.training.acquisition import DifferentiableScore


@dataclass
class TrainContext:
    """What the objective may need beyond the batch: the data, the labeled set, the history.

    `score` is the run's acquisition as a differentiable function (DMLE recomputes it; None
    when the strategy has none). `unlabeled` (dataset indices of the unlabeled pool) and
    `seed` (for extensions' own generators, derived per trial and round) serve trainer
    extensions that train on unlabeled data (WAAL, VAAL); None when the caller does not
    provide them.
    """

    data: ALData
    labeled: torch.Tensor
    round: int
    selections: list[SelectionRecord] = field(default_factory=list)
    score: DifferentiableScore | None = None
    unlabeled: torch.Tensor | None = None
    seed: int | None = None


@dataclass
class TrainStep:
    """One optimisation step: the batch (dataset `indices`, -1 for extra data) and outputs."""

    model: ALModel
    x: torch.Tensor
    y: torch.Tensor
    indices: torch.Tensor
    logits: torch.Tensor
    embedding: torch.Tensor
    epoch: int
    context: TrainContext


class Estimator:
    """Base estimator: subclasses implement `loss`; `name` is set by the registry.
    `extra_forward_passes`: the objective runs the model on more than the batch (DMLE
    re-scores past selections), which deepal-bench-plan cannot count."""

    name = "base"
    extra_forward_passes = False

    def check(self, score: DifferentiableScore | None, selection: Selection) -> None:
        """Fail at start-up when the strategy's score or the selection cannot serve this
        estimator (`score`: the strategy's differentiable acquisition, None if it has none)."""

    def loss(self, step: TrainStep) -> torch.Tensor:
        raise NotImplementedError


ESTIMATORS: Registry[Callable[..., Estimator]] = Registry("estimator.name")


@ESTIMATORS.register("imle")
class IMLE(Estimator):
    """Independent MLE: mean cross-entropy over the labeled batch (DMLE paper eq. 1)."""

    def loss(self, step: TrainStep) -> torch.Tensor:
        return F.cross_entropy(step.logits, step.y)


def build_estimator(cfg: DictConfig | dict) -> Estimator:
    return ESTIMATORS.build(cfg)
