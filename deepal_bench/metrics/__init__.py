"""Metrics computed from records: pure functions, each citing the paper that defines it."""

from deepal_bench.metrics.curves import aubc, auca, auca_ratio, f_acc, time_ratio
from deepal_bench.metrics.dueling import DuelingResult, dueling_matrix
from deepal_bench.metrics.groups import (
    group_accuracies,
    group_metrics,
    mismatch_accuracy,
    worst_group_accuracy,
)
from deepal_bench.metrics.ranking import win_tie_loss
from deepal_bench.metrics.significance import (
    SignificanceResult,
    accuracy_permutation_test,
    auca_ratio_permutation_test,
    label_permutation_test,
    paired_ttest,
    wilcoxon_signed_rank,
)

__all__ = [
    "DuelingResult",
    "SignificanceResult",
    "accuracy_permutation_test",
    "auca",
    "auca_ratio",
    "auca_ratio_permutation_test",
    "aubc",
    "dueling_matrix",
    "f_acc",
    "group_accuracies",
    "group_metrics",
    "label_permutation_test",
    "mismatch_accuracy",
    "paired_ttest",
    "time_ratio",
    "wilcoxon_signed_rank",
    "win_tie_loss",
    "worst_group_accuracy",
]
