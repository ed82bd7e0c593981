"""Significance tests over trials and over test labels.

- `paired_ttest`: two-sided paired t-test over trials (DeepAL+ §3.2 compares AUBCs with
  paired t-tests; FALCUN §4 / BADGE's penalty matrix per round, see `dueling.py`).
- `wilcoxon_signed_rank`: two-sided Wilcoxon signed-rank test over paired seeds (DMLE §5.2,
  "Hypothesis testing", 8 seeds per experiment).
- `label_permutation_test` and its accuracy / AUCA-ratio forms: RALIF appendix A.7, a
  two-sided permutation test that permutes the true test labels 10,000 times and compares
  |T*| with |T_obs|, on stored per-trial test predictions (`store_predictions=true`).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class SignificanceResult:
    """A test statistic, its two-sided p-value and the number of pairs (or labels) used."""

    statistic: float
    pvalue: float
    n: int


def _pairs(a: Sequence[float], b: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("paired samples must be 1-D sequences of the same length")
    keep = ~(np.isnan(x) | np.isnan(y))
    return x[keep], y[keep]


def paired_ttest(a: Sequence[float], b: Sequence[float]) -> SignificanceResult:
    """Two-sided paired t-test of mean(a - b) = 0; pairs with a NaN side are dropped.

    t = mean(d) / (sd(d) / sqrt(n)) with the n-1 standard deviation, p from Student's t with
    n-1 degrees of freedom (as scipy.stats.ttest_rel). Degenerate cases are decided, not NaN:
    fewer than 2 pairs gives p = NaN (no test); identical samples (all d = 0) give t = 0,
    p = 1; a constant non-zero difference gives t = ±inf, p = 0.
    """
    x, y = _pairs(a, b)
    n = len(x)
    if n < 2:
        return SignificanceResult(float("nan"), float("nan"), n)
    d = x - y
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0.0:
        if mean == 0.0:
            return SignificanceResult(0.0, 1.0, n)
        return SignificanceResult(float(np.sign(mean) * np.inf), 0.0, n)
    t = mean / (sd / np.sqrt(n))
    return SignificanceResult(float(t), float(2 * stats.t.sf(abs(t), df=n - 1)), n)


def wilcoxon_signed_rank(a: Sequence[float], b: Sequence[float]) -> SignificanceResult:
    """Two-sided Wilcoxon signed-rank test of paired samples (DMLE §5.2); NaN pairs dropped.

    Zero differences are discarded (Wilcoxon's original treatment); the statistic is the
    smaller of the positive and negative rank sums, and the p-value is exact for small n
    without ties (scipy.stats.wilcoxon). No non-zero difference gives statistic 0, p = 1;
    no pair at all gives p = NaN.
    """
    x, y = _pairs(a, b)
    if len(x) == 0:
        return SignificanceResult(float("nan"), float("nan"), 0)
    d = x - y
    if not np.any(d != 0):
        return SignificanceResult(0.0, 1.0, len(x))
    result = stats.wilcoxon(x, y, zero_method="wilcox", alternative="two-sided")
    return SignificanceResult(float(result.statistic), float(result.pvalue), len(x))


def label_permutation_test(
    statistic: Callable[[np.ndarray], np.ndarray],
    labels: Sequence[int],
    n_permutations: int = 10_000,
    seed: int = 0,
    chunk: int = 256,
) -> SignificanceResult:
    """Two-sided label-permutation test of RALIF appendix A.7.

    `statistic` maps a (P, n_test) array of label vectors to P statistic values. T_obs is its
    value on the true labels; T* its values on `n_permutations` random permutations of the
    labels; the p-value is the share of permutations with |T*| >= |T_obs| (RALIF's
    definition, without a +1 correction; ties up to float rounding count as extreme).
    Permutations are drawn in chunks from a numpy generator seeded with `seed`, so the
    result is reproducible.
    """
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be >= 1 (got {n_permutations})")
    y = np.asarray(labels)
    observed = float(np.asarray(statistic(y[None, :]))[0])
    rng = np.random.default_rng(seed)
    extreme, done = 0, 0
    while done < n_permutations:
        size = min(chunk, n_permutations - done)
        permuted = rng.permuted(np.broadcast_to(y, (size, len(y))), axis=1)
        values = np.asarray(statistic(permuted), dtype=float)
        extreme += int(np.sum(np.abs(values) >= abs(observed) - 1e-12))
        done += size
    return SignificanceResult(observed, extreme / n_permutations, len(y))


def _accuracies(predictions: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Accuracy of each prediction row under each label row: (P, n) x (..., n) -> (P, ...)."""
    if predictions.ndim == 1:
        return (predictions[None, :] == labels).mean(axis=1)
    return (predictions[None, :, :] == labels[:, None, :]).mean(axis=2)


def accuracy_permutation_test(
    pred_a: Sequence[int],
    pred_b: Sequence[int],
    labels: Sequence[int],
    n_permutations: int = 10_000,
    seed: int = 0,
) -> SignificanceResult:
    """RALIF A.7 on one cycle: T = accuracy(a) - accuracy(b) under (permuted) test labels."""
    a, b = np.asarray(pred_a), np.asarray(pred_b)
    if a.shape != b.shape or a.ndim != 1 or len(a) != len(labels):
        raise ValueError("pred_a, pred_b and labels must be 1-D and of the same length")
    return label_permutation_test(
        lambda y: _accuracies(a, y) - _accuracies(b, y), labels, n_permutations, seed
    )


def auca_ratio_permutation_test(
    preds_a: np.ndarray,
    preds_b: np.ndarray,
    preds_random: np.ndarray,
    labels: Sequence[int],
    n_permutations: int = 10_000,
    seed: int = 0,
) -> SignificanceResult:
    """RALIF A.7 on the AUCA ratio: T = AUCA(a)/AUCA(random) - AUCA(b)/AUCA(random).

    `preds_*` are (cycles, n_test) test predictions of one trial at the same selection
    cycles; every accuracy, Random's included, is recomputed under each label permutation.
    """
    a, b, r = (np.asarray(p) for p in (preds_a, preds_b, preds_random))
    if not (a.shape == b.shape == r.shape) or a.ndim != 2 or a.shape[1] != len(labels):
        raise ValueError("preds_a, preds_b and preds_random must all be (cycles, n_test)")

    def area(preds: np.ndarray, y: np.ndarray) -> np.ndarray:
        acc = _accuracies(preds, y)  # (P, cycles)
        if acc.shape[1] == 1:
            return acc[:, 0]
        return (acc[:, 1:] + acc[:, :-1]).sum(axis=1) / 2.0  # `auca` row by row

    def statistic(y: np.ndarray) -> np.ndarray:
        random_area = area(r, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (area(a, y) - area(b, y)) / random_area

    return label_permutation_test(statistic, labels, n_permutations, seed)
