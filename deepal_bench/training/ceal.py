"""CEAL's pseudo-labels (Wang et al. 2016, IEEE TCSVT, §III-C) as a trainer extension.

After a query, the remaining unlabeled points whose predicted entropy is below δ_t join
that round's training with their predicted label. The threshold decays with the query round
t = 1, 2, ...: `cumulative` (default) as DeepAL+'s code does it (SineZHAN/deepALplus
query_strategies/ceal.py subtracts dr·t from δ at every query, so δ_t = δ0 - dr·t(t+1)/2),
or `linear` as the CEAL paper writes it (§III-C: δ_t = δ0 - dr·t); never below 0.
"""

from dataclasses import dataclass
from typing import Literal

import torch

from deepal_bench.training.estimators import TrainContext
from deepal_bench.training.extensions import TrainerExtension

DecaySchedule = Literal["cumulative", "linear"]


def ceal_threshold(delta0: float, decay: float, t: int, schedule: DecaySchedule) -> float:
    """δ_t after query round t: δ0 - dr·t(t+1)/2 (cumulative) or δ0 - dr·t (linear), >= 0."""
    steps = t * (t + 1) / 2 if schedule == "cumulative" else t
    return max(0.0, delta0 - decay * steps)


@dataclass
class PseudoLabels:
    """Candidates left after a query: dataset indices, predicted labels and entropies."""

    indices: torch.Tensor
    labels: torch.Tensor
    entropy: torch.Tensor

    def below(self, delta: float, labeled: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(indices, labels) with entropy < δ that are not in `labeled`."""
        keep = (self.entropy < delta) & ~torch.isin(self.indices, labeled.cpu())
        return self.indices[keep], self.labels[keep]


class CEALExtension(TrainerExtension):
    """Adds this round's high-confidence pseudo-labelled points to the training data."""

    def __init__(
        self, pseudo: PseudoLabels, delta0: float, decay: float, schedule: DecaySchedule
    ) -> None:
        self.pseudo, self.delta0, self.decay, self.schedule = pseudo, delta0, decay, schedule
        self.used = torch.empty(0, dtype=torch.long)

    def extra_data(self, context: TrainContext) -> tuple[torch.Tensor, torch.Tensor] | None:
        delta = ceal_threshold(self.delta0, self.decay, context.round, self.schedule)
        idx, labels = self.pseudo.below(delta, context.labeled)
        self.used = idx
        if len(idx) == 0:
            return None
        data = context.data
        return data.x_train[idx.to(data.x_train.device)], labels.to(data.y_train.device)
