"""CEAL's pseudo-labels (Wang et al. 2016, IEEE TCSVT, §III-C) as a trainer extension.

After a query, the remaining unlabeled points whose predicted entropy is below δ_t join
that round's training with their predicted label, δ_t = max(0, δ0 - dr * t) at round t
(CEAL eq. 4 with linear decay).
"""

from dataclasses import dataclass

import torch

from deepal_bench.training.estimators import TrainContext
from deepal_bench.training.extensions import TrainerExtension


def ceal_threshold(delta0: float, decay: float, t: int) -> float:
    """δ_t = max(0, δ0 - dr * t) (CEAL §III-C, linear decay per iteration t)."""
    return max(0.0, delta0 - decay * t)


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

    def __init__(self, pseudo: PseudoLabels, delta0: float, decay: float) -> None:
        self.pseudo, self.delta0, self.decay = pseudo, delta0, decay
        self.used = torch.empty(0, dtype=torch.long)

    def extra_data(self, context: TrainContext) -> tuple[torch.Tensor, torch.Tensor] | None:
        delta = ceal_threshold(self.delta0, self.decay, context.round)
        idx, labels = self.pseudo.below(delta, context.labeled)
        self.used = idx
        if len(idx) == 0:
            return None
        data = context.data
        return data.x_train[idx.to(data.x_train.device)], labels.to(data.y_train.device)
