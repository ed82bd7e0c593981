"""Pure selection kernels: functions of tensors (+ a torch.Generator) returning scores or
pool positions. No model, no I/O, no globals."""

from deepal_bench.kernels.badge import badge
from deepal_bench.kernels.kcenter import kcenter_greedy
from deepal_bench.kernels.kmeanspp import kmeanspp
from deepal_bench.kernels.scores import (
    bald,
    entropy,
    entropy_dropout,
    least_confidence,
    least_confidence_dropout,
    margin,
    margin_dropout,
    mean_std,
    var_ratio,
)

__all__ = [
    "badge",
    "bald",
    "entropy",
    "entropy_dropout",
    "kcenter_greedy",
    "kmeanspp",
    "least_confidence",
    "least_confidence_dropout",
    "margin",
    "margin_dropout",
    "mean_std",
    "var_ratio",
]
