"""Accuracy-budget curve summaries: AUBC, F-acc (DeepAL+ survey §3.1), AUCA ratio (RALIF §5)."""

from collections.abc import Sequence

import numpy as np


def aubc(n_labeled: Sequence[float], accuracy: Sequence[float]) -> float:
    """Area under the accuracy-budget curve, normalised by the budget span.

    Trapezoid rule over the labeled-set sizes divided by (last - first size): DeepAL+'s
    `get_aubc(quota, bsize, resseq)` without its rounding to 3 decimals; because the
    x-axis is the real labeled-set size, a last batch smaller than the others gets its
    true (narrower) width. A single point (no query round) returns its accuracy.
    """
    x = np.asarray(n_labeled, dtype=float)
    y = np.asarray(accuracy, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) == 0:
        raise ValueError("n_labeled and accuracy must be 1-D sequences of the same non-zero length")
    if np.any(np.diff(x) <= 0):
        raise ValueError("n_labeled must be strictly increasing")
    if len(x) == 1:
        return float(y[0])
    area = float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0)
    return area / float(x[-1] - x[0])


def f_acc(accuracy: Sequence[float]) -> float:
    """Final accuracy: the accuracy after the quota is spent (last round)."""
    return float(np.asarray(accuracy, dtype=float)[-1])


def auca(accuracy: Sequence[float]) -> float:
    """Area under the accuracy curve over selection cycles (RALIF §5 "AUCA").

    Trapezoid rule with unit spacing between consecutive cycles (RALIF: "calculated using
    the trapezoidal rule"); a single cycle returns its accuracy.
    """
    y = np.asarray(accuracy, dtype=float)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError("accuracy must be a non-empty 1-D sequence")
    if len(y) == 1:
        return float(y[0])
    return float(np.sum(y[1:] + y[:-1]) / 2.0)


def auca_ratio(curve: Sequence[float], random_curve: Sequence[float]) -> float:
    """RALIF's AUCA Ratio: AUCA of `curve` over AUCA of Random's curve on the same setting.

    Both curves are accuracies at the same selection cycles (RALIF Table 2 uses cycles
    1..9); Random's own ratio is 1. A ratio above 1 means a consistent gain over Random.
    """
    a, r = np.asarray(curve, dtype=float), np.asarray(random_curve, dtype=float)
    if a.shape != r.shape:
        raise ValueError(
            f"curve and random_curve must cover the same cycles (lengths {len(a)} and {len(r)})"
        )
    denominator = auca(r)
    if denominator == 0:
        raise ValueError("Random's area under the accuracy curve is 0; the ratio is undefined")
    return auca(a) / denominator


def time_ratio(seconds: Sequence[float], random_seconds: Sequence[float]) -> float:
    """A strategy's mean total run time over Random's (DeepAL+ Tables 4-7, "Time" column).

    `seconds` are per-trial totals of the whole AL process (training + querying, as the
    survey defines it); the ratio of the means is the time "that takes the running time of
    Random as unit" (DeepAL+ App. E). NaN entries (missing trials) are ignored.
    """
    a, r = np.asarray(seconds, dtype=float), np.asarray(random_seconds, dtype=float)
    if np.all(np.isnan(a)) or np.all(np.isnan(r)):
        raise ValueError("time_ratio needs at least one measured trial on each side")
    denominator = float(np.nanmean(r))
    if denominator <= 0:
        raise ValueError("Random's mean run time must be positive")
    return float(np.nanmean(a)) / denominator
