"""Metrics against values computed by hand (DeepAL+, RALIF, FALCUN definitions)."""

import math

import numpy as np
import pandas as pd
import pytest

from deepal_bench.metrics import (
    aubc,
    auca,
    auca_ratio,
    dueling_matrix,
    f_acc,
    group_accuracies,
    group_metrics,
    mismatch_accuracy,
    time_ratio,
    win_tie_loss,
    worst_group_accuracy,
)


def deepal_plus_get_aubc(quota, bsize, resseq):
    """DeepAL+'s `get_aubc` (deepALplus/utils.py), transcribed, without the final rounding."""
    ressum = 0.0
    if quota % bsize == 0:
        for i in range(len(resseq) - 1):
            ressum = ressum + (resseq[i + 1] + resseq[i]) * bsize / 2
    else:
        for i in range(len(resseq) - 2):
            ressum = ressum + (resseq[i + 1] + resseq[i]) * bsize / 2
        k = quota % bsize
        ressum = ressum + ((resseq[-1] + resseq[-2]) * k / 2)
    return ressum / quota


def test_aubc_equal_batches_by_hand():
    # (0.2+0.4)*10/2 + (0.4+0.9)*10/2 = 9.5 over a span of 20
    assert aubc([10, 20, 30], [0.2, 0.4, 0.9]) == pytest.approx(0.475)
    assert aubc([10, 20, 30], [0.2, 0.4, 0.9]) == pytest.approx(
        deepal_plus_get_aubc(20, 10, [0.2, 0.4, 0.9])
    )


def test_aubc_unequal_last_batch_matches_deepal_plus():
    # last batch of 5: 9.5 + (0.9+1.0)*5/2 = 14.25 over a span of 25
    n, acc = [10, 20, 30, 35], [0.2, 0.4, 0.9, 1.0]
    assert aubc(n, acc) == pytest.approx(0.57)
    assert aubc(n, acc) == pytest.approx(deepal_plus_get_aubc(25, 10, acc))


def test_aubc_one_round_and_bad_input():
    assert aubc([20], [0.63]) == 0.63
    with pytest.raises(ValueError):
        aubc([10, 10], [0.1, 0.2])
    with pytest.raises(ValueError):
        aubc([10, 20], [0.1])


def test_aubc_and_f_acc_propagate_nan():
    assert math.isnan(aubc([10, 20], [0.5, float("nan")]))
    assert f_acc([0.1, 0.7, 0.8]) == 0.8
    assert math.isnan(f_acc([0.1, float("nan")]))


def test_auca_and_ratio_by_hand():
    # (0.5+0.7)/2 + (0.7+0.9)/2 = 1.4 ; Random: 0.55 + 0.65 = 1.2
    assert auca([0.5, 0.7, 0.9]) == pytest.approx(1.4)
    assert auca_ratio([0.5, 0.7, 0.9], [0.5, 0.6, 0.7]) == pytest.approx(1.4 / 1.2)
    assert auca_ratio([0.5, 0.6, 0.7], [0.5, 0.6, 0.7]) == 1.0
    assert auca_ratio([0.8], [0.4]) == 2.0  # one cycle: the ratio of the accuracies
    assert math.isnan(auca_ratio([0.5, float("nan")], [0.5, 0.6]))
    with pytest.raises(ValueError):
        auca_ratio([0.5, 0.6], [0.5])
    with pytest.raises(ValueError):
        auca_ratio([0.5], [0.0])


def test_time_ratio_by_hand():
    assert time_ratio([10.0, 20.0], [5.0, 5.0]) == 3.0
    assert time_ratio([10.0, float("nan")], [5.0, 5.0]) == 2.0
    with pytest.raises(ValueError):
        time_ratio([1.0], [float("nan")])


def test_win_tie_loss_by_hand_with_margin_ties_and_missing():
    scores = pd.DataFrame(
        {"d1": [0.800, 0.795, 0.700], "d2": [0.500, np.nan, 0.510]}, index=["A", "B", "C"]
    )
    table = win_tie_loss(scores, margin=0.005)
    # d1: A-B = 0.005 exactly -> tie; A, B beat C. d2: B missing loses to A and C; C beats A.
    assert table.loc["A", ["win", "tie", "loss"]].tolist() == [2, 1, 1]
    assert table.loc["B", ["win", "tie", "loss"]].tolist() == [1, 1, 2]
    assert table.loc["C", ["win", "tie", "loss"]].tolist() == [2, 0, 2]
    assert table["score"].to_dict() == {"A": 5, "C": 4, "B": 3}
    assert list(table.index) == ["A", "C", "B"]
    assert table["rank"].tolist() == [1, 2, 3]


def test_win_tie_loss_both_missing_tie_and_shared_rank():
    scores = pd.DataFrame({"d1": [np.nan, np.nan, 0.3], "d2": [0.5, 0.5, 0.2]}, index=list("xyz"))
    table = win_tie_loss(scores)
    # x vs y: d1 both missing -> tie, d2 equal -> tie; both beat z on d2, lose on d1
    assert table.loc["x", ["win", "tie", "loss"]].tolist() == [1, 2, 1]
    assert table.loc["z", ["win", "tie", "loss"]].tolist() == [2, 0, 2]
    assert table["rank"].to_dict() == {"x": 1, "y": 1, "z": 1}
    with pytest.raises(ValueError):
        win_tie_loss(scores, margin=-1)


def test_win_tie_loss_on_published_deepal_plus_table1():
    """Table 9 (medical group) from the published Table 1 AUBCs: WAAL wins all 34 duels.

    Table 9 was computed from unrounded results, so other rows differ by a count or two.
    """
    table1 = pd.read_csv("results/paper/deepal_plus_table1.csv")
    aubcs = table1[(table1.metric == "aubc") & (table1.strategy != "kmeans_faiss")]
    scores = aubcs.pivot(index="strategy", columns="dataset", values="mean")
    medical = win_tie_loss(scores[["PneumoniaMNIST", "BreakHis"]])
    assert medical.loc["waal", ["win", "tie", "loss"]].tolist() == [34, 0, 0]
    assert medical.index[0] == "waal" and medical.index[-1] == "mean_std"
    standard = win_tie_loss(scores.drop(columns=["PneumoniaMNIST", "BreakHis"]))
    assert (standard[["win", "tie", "loss"]].sum(axis=1) == 17 * 8).all()
    assert standard.index[0] == "waal"


def _records(rows):
    return pd.DataFrame(rows, columns=["setting", "strategy", "seed", "round", "accuracy"])


def test_dueling_matrix_by_hand():
    rows = []
    for seed in range(3):
        for strategy in "abc":
            rows.append(("S", strategy, seed, 0, 0.3))  # shared initial round
    for seed, (a, b) in enumerate([(0.9, 0.5), (0.8, 0.6), (0.85, 0.55)]):
        rows += [("S", "a", seed, 1, a), ("S", "b", seed, 1, b), ("S", "c", seed, 1, a)]
    for seed, (a, b) in enumerate([(0.9, 0.95), (0.8, 0.5), (0.85, 0.55)]):
        rows += [("S", "a", seed, 2, a), ("S", "b", seed, 2, b)]
    rows.append(("S", "c", 0, 2, 0.99))  # c has one trial in round 2: no comparison
    result = dueling_matrix(_records(rows))
    # round 1: a-b diffs .4,.2,.3 -> t = 5.196, p = 0.035 (win); c == a (no difference);
    # round 2: a-b diffs -.05,.3,.3 -> p = 0.26 (no win)
    assert result.comparisons.loc["a", "b"] == 2
    assert result.comparisons.loc["a", "c"] == 1 and result.comparisons.loc["b", "c"] == 1
    assert result.matrix.loc["a", "b"] == 50.0 and result.matrix.loc["b", "a"] == 0.0
    assert result.matrix.loc["c", "b"] == 100.0 and result.matrix.loc["a", "c"] == 0.0
    assert result.win_rate.to_dict() == pytest.approx({"a": 100 / 3, "b": 0.0, "c": 50.0})
    assert result.loss_rate.to_dict() == pytest.approx({"a": 0.0, "b": 200 / 3, "c": 0.0})
    with_initial = dueling_matrix(_records(rows), include_initial=True)
    assert with_initial.comparisons.loc["a", "b"] == 3
    assert with_initial.wins.loc["a", "b"] == 1


def test_dueling_matrix_checks_input():
    with pytest.raises(ValueError):
        dueling_matrix(pd.DataFrame({"setting": [], "strategy": []}))
    with pytest.raises(ValueError):
        dueling_matrix(_records([]), alpha=1.5)


GROUPS = [0, 0, 1, 1, 2, 2, 3, 3]
Y = [0, 0, 1, 1, 0, 1, 1, 0]
PRED = [0, 1, 1, 1, 0, 0, 0, 1]  # correct: 1 0 | 1 1 | 1 0 | 0 0
NAMES = ["landbird_land", "landbird_water", "waterbird_land", "waterbird_water"]


def test_group_accuracies_by_hand():
    assert group_accuracies(PRED, Y, GROUPS, 4).tolist() == [0.5, 1.0, 0.5, 0.0]
    with_empty = group_accuracies(PRED, Y, GROUPS, 5)
    assert math.isnan(with_empty[4])
    assert worst_group_accuracy(with_empty) == 0.0
    assert mismatch_accuracy(PRED, Y, GROUPS, [1, 2]) == 0.75
    with pytest.raises(ValueError):
        worst_group_accuracy([float("nan")])
    with pytest.raises(ValueError):
        mismatch_accuracy(PRED, Y, GROUPS, [7])


def test_group_metrics_columns():
    columns = group_metrics(PRED, Y, GROUPS, NAMES, ["landbird_water", "waterbird_land"])
    assert columns == {
        "worst_group_accuracy": 0.0,
        "mismatch_accuracy": 0.75,
        "accuracy_landbird_land": 0.5,
        "accuracy_landbird_water": 1.0,
        "accuracy_waterbird_land": 0.5,
        "accuracy_waterbird_water": 0.0,
    }
    assert "mismatch_accuracy" not in group_metrics(PRED, Y, GROUPS, NAMES)
    with pytest.raises(ValueError):
        group_metrics(PRED, Y, GROUPS, NAMES, ["sea"])
