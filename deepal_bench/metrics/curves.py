"""Accuracy-budget curve summaries (DeepAL+ survey §3.1)."""

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
