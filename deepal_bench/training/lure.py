"""LURE: the levelled unbiased risk estimator of Farquhar, Gal & Rainforth (2021), eq. 4.

DMLE paper App. D compares against it. With N pool points, M acquired so far, and point
i_m acquired m-th with probability q(i_m) among the N − m + 1 points still available,

    R_LURE = (1/M) Σ_m v_m L(i_m),   v_m = 1 + (N − M)/(N − m) · (1 / ((N − m + 1) q(i_m)) − 1).

The initial labeled points are drawn uniformly (q = 1/(N − m + 1), so v_m = 1); queried
points take q = exp(log-prob of the draw) recorded by the stochastic selection. On a
mini-batch the loss is (1/|B|) Σ_{i∈B} v_i L_i, an unbiased estimate of R_LURE. Top-k has
no selection probabilities, so LURE needs selection=softmax, power or softrank.
"""

import torch
import torch.nn.functional as F

from deepal_bench.errors import ConfigError
from deepal_bench.selection import Selection
from deepal_bench.training.acquisition import DifferentiableScore
from deepal_bench.training.estimators import ESTIMATORS, Estimator, TrainContext, TrainStep

_TOPK = (
    "estimator lure needs the selection probability of every query, but selection=topk is "
    "deterministic; use selection=softmax, power or softrank (or estimator=imle/dmle)."
)


def lure_weights(pool_size: int, log_q: torch.Tensor) -> torch.Tensor:
    """v_m for acquisitions m = 1..M in order, given ln q(i_m) (Farquhar et al. 2021 eq. 4)."""
    n, big_m = pool_size, len(log_q)
    m = torch.arange(1, big_m + 1, dtype=torch.float64)
    q = torch.exp(log_q.double())
    remaining = n - m
    ratio = torch.where(remaining > 0, (n - big_m) / remaining.clamp_min(1), 0.0)
    return 1.0 + ratio * (1.0 / ((n - m + 1) * q) - 1.0)


@ESTIMATORS.register("lure")
class LURE(Estimator):
    """Importance-weighted cross-entropy with the LURE weights v_m."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._weights: torch.Tensor | None = None

    def check(self, score: DifferentiableScore | None, selection: Selection) -> None:
        if not selection.stochastic:
            raise ConfigError(_TOPK)

    def weights(self, context: TrainContext) -> torch.Tensor:
        """v for every training point (1 for unlabeled points, which are never trained on)."""
        key = (id(context), context.round, len(context.selections))
        if key == self._key:
            return self._weights
        n = len(context.data)
        selected = [r for r in context.selections if len(r.indices)]
        chosen = torch.cat([r.indices.cpu().long() for r in selected]) if selected else None
        initial = context.labeled.cpu().long()
        if chosen is not None:
            initial = initial[~torch.isin(initial, chosen)]
        uniform = -torch.log(n - torch.arange(len(initial), dtype=torch.float64))
        log_q = [uniform] + [r.log_probs.cpu().double() for r in selected]
        if any(bool(torch.isnan(lq).any()) for lq in log_q):
            raise ConfigError(_TOPK)
        order = torch.cat([initial] + ([chosen] if chosen is not None else []))
        weights = torch.ones(n, dtype=torch.float64)
        weights[order] = lure_weights(n, torch.cat(log_q))
        self._key, self._weights = key, weights.float().to(context.data.x_train.device)
        return self._weights

    def loss(self, step: TrainStep) -> torch.Tensor:
        v = self.weights(step.context)
        idx = step.indices.to(v.device)
        w = torch.where(idx >= 0, v[idx.clamp_min(0)], torch.ones_like(v[: len(idx)]))
        per_point = F.cross_entropy(step.logits, step.y, reduction="none")
        return (w.to(per_point.device) * per_point).mean()
