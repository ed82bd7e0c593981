"""Significance helpers against closed forms and exact distributions."""

import math

import numpy as np
import pytest
from scipy import stats

from deepal_bench.metrics import (
    accuracy_permutation_test,
    auca_ratio_permutation_test,
    label_permutation_test,
    paired_ttest,
    wilcoxon_signed_rank,
)


def test_paired_ttest_closed_form():
    # diffs .4 .2 .3: mean .3, sd .1, t = .3 / (.1 / sqrt 3) = 3 sqrt 3; df = 2 has the closed
    # form p = 1 - t / sqrt(t^2 + 2)
    result = paired_ttest([0.9, 0.8, 0.85], [0.5, 0.6, 0.55])
    t = 3 * math.sqrt(3)
    assert result.statistic == pytest.approx(t)
    assert result.pvalue == pytest.approx(1 - t / math.sqrt(t * t + 2))
    assert result.n == 3
    reference = stats.ttest_rel([0.9, 0.8, 0.85], [0.5, 0.6, 0.55])
    assert result.pvalue == pytest.approx(reference.pvalue)


def test_paired_ttest_degenerate_cases_and_nan():
    assert paired_ttest([0.5, 0.6], [0.5, 0.6]).pvalue == 1.0
    constant = paired_ttest([0.6, 0.7], [0.5, 0.6])
    assert constant.pvalue == 0.0 and constant.statistic == math.inf
    assert math.isnan(paired_ttest([0.5], [0.4]).pvalue)
    dropped = paired_ttest([0.9, 0.8, 0.85, np.nan], [0.5, 0.6, 0.55, 0.1])
    assert dropped.n == 3 and dropped.statistic == pytest.approx(3 * math.sqrt(3))
    with pytest.raises(ValueError):
        paired_ttest([1, 2], [1])


def test_wilcoxon_exact_by_hand():
    # d = 1, -2, 3, 4, 5: W- = 2; subsets of {1..5} summing to <= 2: {}, {1}, {2} -> 3/32,
    # two-sided p = 6/32
    b = np.zeros(5)
    result = wilcoxon_signed_rank(np.array([1, -2, 3, 4, 5]) + b, b)
    assert result.statistic == 2.0
    assert result.pvalue == pytest.approx(6 / 32)
    with_zero = wilcoxon_signed_rank([0, 1, -2, 3, 4, 5], [0, 0, 0, 0, 0, 0])
    assert with_zero.pvalue == pytest.approx(6 / 32) and with_zero.n == 6
    assert wilcoxon_signed_rank([1, 2], [1, 2]).pvalue == 1.0
    assert math.isnan(wilcoxon_signed_rank([np.nan], [1.0]).pvalue)


def test_accuracy_permutation_test_matches_exact_enumeration():
    # labels 0 1 0 1; a is perfect, b predicts all 0: T_obs = 1 - .5 = .5. Under a label
    # permutation b stays at .5 and a is 1 or 0 for 2 of the 6 arrangements -> p = 1/3
    labels = [0, 1, 0, 1]
    result = accuracy_permutation_test([0, 1, 0, 1], [0, 0, 0, 0], labels, 20_000, seed=3)
    assert result.statistic == 0.5
    assert result.pvalue == pytest.approx(1 / 3, abs=0.015)
    again = accuracy_permutation_test([0, 1, 0, 1], [0, 0, 0, 0], labels, 20_000, seed=3)
    assert again.pvalue == result.pvalue
    same = accuracy_permutation_test([0, 1, 1, 1], [0, 1, 1, 1], labels, 100)
    assert same.statistic == 0.0 and same.pvalue == 1.0


def test_permutation_test_separates_a_real_difference():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 2000)
    good = np.where(rng.random(2000) < 0.9, labels, (labels + 1) % 10)
    bad = np.where(rng.random(2000) < 0.5, labels, (labels + 1) % 10)
    result = accuracy_permutation_test(good, bad, labels, 2000)
    assert result.statistic == pytest.approx((good == labels).mean() - (bad == labels).mean())
    assert result.pvalue == 0.0
    with pytest.raises(ValueError):
        label_permutation_test(lambda y: y.mean(axis=1), labels, 0)


def test_auca_ratio_permutation_statistic_by_hand():
    labels = np.array([0, 1, 0, 1])
    random = np.array([[0, 0, 0, 0], [0, 1, 0, 0]])  # acc .5, .75 -> AUCA .625
    better = np.array([[0, 1, 0, 0], [0, 1, 0, 1]])  # acc .75, 1 -> AUCA .875
    result = auca_ratio_permutation_test(better, random, random, labels, 500)
    assert result.statistic == pytest.approx(0.875 / 0.625 - 1.0)
    assert 0.0 < result.pvalue <= 1.0
    assert auca_ratio_permutation_test(better, better, random, labels, 50).pvalue == 1.0
    with pytest.raises(ValueError):
        auca_ratio_permutation_test(better, random[:1], random, labels)
