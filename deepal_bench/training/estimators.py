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


@dataclass
class SelectionRecord:
    """One round's selection, kept in the run state so later rounds can re-evaluate it.

    `indices` are dataset indices; `kind`/`beta` describe the selection distribution,
    `score` names the strategy's score function, `log_probs` the log-probabilities under the
    parameters at selection time (NaN for deterministic selections).
    """

    round: int
    indices: torch.Tensor
    kind: str
    beta: float
    score: str | None
    log_probs: torch.Tensor


@dataclass
class TrainContext:
    """What the objective may need beyond the batch: the data, the labeled set, the history.

    `strategy` is the run's strategy instance (DMLE recomputes its acquisition score).
    `unlabeled` (dataset indices of the unlabeled pool) and `seed` (for extensions' own
    generators, derived per trial and round) serve trainer extensions that train on
    unlabeled data (WAAL, VAAL); None when the caller does not provide them.
    """

    data: ALData
    labeled: torch.Tensor
    round: int
    selections: list[SelectionRecord] = field(default_factory=list)
    strategy: object | None = None
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
    """Base estimator: subclasses implement `loss`."""

    name = "base"

    def check(self, strategy: object, selection: object) -> None:
        """Fail at start-up when the strategy or selection cannot serve this estimator."""

    def loss(self, step: TrainStep) -> torch.Tensor:
        raise NotImplementedError


ESTIMATORS: Registry[Callable[..., Estimator]] = Registry("estimator.name")


@ESTIMATORS.register("imle")
class IMLE(Estimator):
    """Independent MLE: mean cross-entropy over the labeled batch (DMLE paper eq. 1)."""

    name = "imle"

    def loss(self, step: TrainStep) -> torch.Tensor:
        return F.cross_entropy(step.logits, step.y)


def build_estimator(cfg: DictConfig | dict) -> Estimator:
    return ESTIMATORS.build(cfg)
