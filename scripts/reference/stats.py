"""Equivalence statistics for two independent samples of AUBC (one value per seed).

Welch's t (unequal variances) gives the difference of the means with its 95% confidence
interval; the two one-sided Welch tests (TOST, Schuirmann 1987) give the p-value of
"the means differ by less than the margin". Both come from scipy.stats.ttest_ind.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

MARGIN = 0.01  # +-1 percentage point of accuracy, in AUBC units


@dataclass(frozen=True)
class Equivalence:
    """Ours minus theirs: the difference of the means, its 95% CI, and the TOST p-value."""

    diff: float
    ci_low: float
    ci_high: float
    tost_p: float
    margin: float

    @property
    def equivalent(self) -> bool:
        """TOST rejects a difference of the margin or more at the 5% level."""
        return self.tost_p < 0.05


def _sample(values: Sequence[float], name: str) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    if a.ndim != 1 or len(a) < 2 or not np.isfinite(a).all():
        raise ValueError(f"{name} needs at least two finite values, got {list(values)}")
    return a


def welch_ci(ours: Sequence[float], theirs: Sequence[float], level: float = 0.95):
    """mean(ours) - mean(theirs) and its Welch confidence interval at `level`."""
    a, b = _sample(ours, "ours"), _sample(theirs, "theirs")
    diff = float(a.mean() - b.mean())
    if a.var(ddof=1) + b.var(ddof=1) == 0:
        return diff, diff, diff
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(level)
    return diff, float(ci.low), float(ci.high)


def tost_p(ours: Sequence[float], theirs: Sequence[float], margin: float = MARGIN) -> float:
    """p-value of TOST at +-margin: the larger of the two one-sided Welch tests of
    H0: diff <= -margin and H0: diff >= +margin. Small p = equivalent within the margin."""
    a, b = _sample(ours, "ours"), _sample(theirs, "theirs")
    if a.var(ddof=1) + b.var(ddof=1) == 0:
        return 0.0 if abs(a.mean() - b.mean()) < margin else 1.0
    lower = stats.ttest_ind(a + margin, b, equal_var=False, alternative="greater").pvalue
    upper = stats.ttest_ind(a - margin, b, equal_var=False, alternative="less").pvalue
    return float(max(lower, upper))


def equivalence(
    ours: Sequence[float], theirs: Sequence[float], margin: float = MARGIN
) -> Equivalence:
    """The difference, its 95% CI and the TOST p-value of ours against theirs."""
    diff, low, high = welch_ci(ours, theirs)
    return Equivalence(diff, low, high, tost_p(ours, theirs, margin), margin)
