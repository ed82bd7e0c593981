"""scripts/reference statistics on hand-made numbers: Welch's CI, TOST at +-1 pp, AUBC of a
curve, and a comparison row."""

import math
import os
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.reference.compare import _side_files, compare_row, markdown  # noqa: E402
from scripts.reference.curves import seed_aubcs  # noqa: E402
from scripts.reference.stats import equivalence, tost_p, welch_ci  # noqa: E402

# Two samples of three, each with sample std 0.02: se = sqrt(2 * 0.0004 / 3), Welch df = 4.
A = [0.80, 0.82, 0.84]
B = [0.81, 0.83, 0.85]
SE = math.sqrt(2 * 0.0004 / 3)
T975_DF4 = 2.7764451051977987  # Student t, 4 df, 97.5% quantile (table value)


def t4_sf(t: float) -> float:
    """Upper tail of Student's t with 4 degrees of freedom, in closed form."""
    x = t / math.sqrt(t * t + 4)
    return 0.5 - 0.75 * (x - x**3 / 3)


def test_welch_ci_by_hand():
    diff, low, high = welch_ci(A, B)
    assert diff == pytest.approx(-0.01)
    assert low == pytest.approx(-0.01 - T975_DF4 * SE)
    assert high == pytest.approx(-0.01 + T975_DF4 * SE)


def test_tost_at_the_margin_is_one_half():
    # diff = -0.01 sits on the lower margin: that one-sided t is 0, its p exactly 1/2;
    # the other one is t = -0.02 / se, p = t4 cdf, smaller.
    assert tost_p(A, B, margin=0.01) == pytest.approx(0.5)


def test_tost_of_two_equal_tight_samples():
    tight = [0.798, 0.800, 0.802]
    se = math.sqrt(2 * 0.000004 / 3)
    assert tost_p(tight, tight, margin=0.01) == pytest.approx(t4_sf(0.01 / se), rel=1e-6)
    assert tost_p(tight, tight, margin=0.01) < 0.01


def test_tost_rejects_nothing_beyond_the_margin():
    shifted = [a + 0.03 for a in B]
    result = equivalence(shifted, B)
    assert result.diff == pytest.approx(0.03)
    assert result.tost_p == pytest.approx(1 - t4_sf((0.03 - 0.01) / SE), rel=1e-6)
    assert not result.equivalent


def test_zero_variance_samples():
    assert tost_p([0.9, 0.9], [0.9, 0.9]) == 0.0
    assert tost_p([0.9, 0.9], [0.8, 0.8]) == 1.0
    assert welch_ci([0.9, 0.9], [0.8, 0.8]) == pytest.approx((0.1, 0.1, 0.1))


def test_too_few_seeds_is_refused():
    with pytest.raises(ValueError, match="at least two"):
        tost_p([0.9], [0.8, 0.7])


def _curves(accuracies: dict[int, list[float]]) -> pd.DataFrame:
    rows = [
        (seed, r, 100 + 50 * r, acc)
        for seed, accs in accuracies.items()
        for r, acc in enumerate(accs)
    ]
    return pd.DataFrame(rows, columns=["seed", "round", "n_labeled", "accuracy"])


def test_seed_aubcs_by_hand():
    # (0.5 + 0.7) / 2 * 50 + (0.7 + 0.9) / 2 * 50 = 70, over 100 labeled points: 0.7
    aubcs = seed_aubcs(_curves({0: [0.5, 0.7, 0.9], 1: [0.6, 0.6, 0.6]}))
    assert aubcs.to_dict() == pytest.approx({0: 0.7, 1: 0.6})


def test_compare_row_and_markdown():
    ours = _curves({s: [a, a, a] for s, a in enumerate(A)})
    theirs = _curves({s: [b, b, b] for s, b in enumerate(B)})
    row = compare_row("entropy", ours, theirs)
    assert row["ours_aubc"] == pytest.approx(0.82)
    assert row["theirs_aubc"] == pytest.approx(0.83)
    assert row["ours_std"] == pytest.approx(0.02)
    assert row["tost_p"] == pytest.approx(0.5)
    assert row["equivalent"] is False
    assert (row["n_final"], row["ours_final"]) == (200, pytest.approx(0.82))
    text = markdown(pd.DataFrame([row]))
    assert "| entropy | 0.8200 ± 0.0200 (3) | 0.8300 ± 0.0200 (3) | -1.00 [" in text
    assert text.rstrip().endswith("| 0.820 / 0.830 (N=200) |")


def test_only_the_sizes_both_sides_evaluated_are_compared():
    # theirs never evaluated N = 100 (no round 0), so ours' round 0 is left out:
    # ours over N = 150, 200: (0.6 + 0.8) / 2 = 0.7; theirs (0.5 + 0.9) / 2 = 0.7
    ours = _curves({0: [0.1, 0.6, 0.8], 1: [0.1, 0.6, 0.8]})
    theirs = _curves({0: [0.2, 0.5, 0.9], 1: [0.2, 0.5, 0.9]})
    theirs = theirs[theirs["round"] > 0]
    unfinished = pd.DataFrame({"seed": [7], "round": [1], "n_labeled": [150], "accuracy": [0.0]})
    row = compare_row("imle", ours, pd.concat([theirs, unfinished]))
    assert row["theirs_seeds"] == 2
    assert row["ours_aubc"] == pytest.approx(0.7) and row["theirs_aubc"] == pytest.approx(0.7)
    assert row["tost_p"] == 0.0 and row["theirs_final"] == pytest.approx(0.9)


def test_a_side_with_one_finished_seed_gets_no_test():
    row = compare_row("bald", _curves({0: [0.5, 0.7, 0.9]}), _curves({0: [0.5] * 3, 1: [0.6] * 3}))
    assert row["diff"] == pytest.approx(0.7 - 0.55)
    assert math.isnan(row["tost_p"]) and row["equivalent"] is False


def test_a_failure_is_listed_until_a_later_run_of_that_side_succeeds(tmp_path):
    ours = tmp_path / "suite" / "ours"
    ours.mkdir(parents=True)
    (ours / "random.csv").write_text("seed,round,n_labeled,accuracy\n")
    os.utime(ours / "random.csv", (1_000, 1_000))
    (ours / "random.failed").write_text("refused\n")  # after the curves: still failing
    (ours / "bald.failed").write_text("refused\n")
    (ours / "bald.csv").write_text("seed,round,n_labeled,accuracy\n")
    os.utime(ours / "bald.failed", (1_000, 1_000))  # a later run wrote bald's curves
    (tmp_path / "dest").mkdir()
    _side_files(tmp_path / "suite", tmp_path / "dest")
    listed = pd.read_csv(tmp_path / "dest" / "failed.csv")
    assert listed[["side", "strategy"]].values.tolist() == [["ours", "random"]]
