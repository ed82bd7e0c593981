"""DMLE vs IMLE report: Table 2 statistics and the Wilcoxon test on hand-made records."""

from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from deepal_bench.report.dmle_comparison import (
    comparison_table,
    display_table,
    final_accuracies,
    plot_curves,
)
from deepal_bench.report.formats import markdown_table
from deepal_bench.results.collect import Run

IMLE = [0.80, 0.82, 0.79, 0.85, 0.81, 0.78, 0.84, 0.83]
GAIN = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08]  # all positive, distinct


def _run(estimator: str, selection: str, final: list[float]) -> Run:
    config = OmegaConf.create(
        {
            "dataset": {"name": "iris"},
            "strategy": {"name": "entropy"},
            "budget": {"batch": 5, "initial": 1, "quota": 99},
            "selection": {"name": selection},
            "estimator": {"name": estimator},
            "model": {"name": "mlp"},
            "trials": len(final),
        }
    )
    rows = []
    for trial, acc in enumerate(final):
        rows.append({"trial": trial, "seed": trial, "round": 0, "n_labeled": 1, "accuracy": 0.3})
        rows.append({"trial": trial, "seed": trial, "round": 1, "n_labeled": 100, "accuracy": acc})
    return Run(Path("."), config, pd.DataFrame(rows), pd.DataFrame(), pd.DataFrame())


def _runs() -> list[Run]:
    dmle = [a + g for a, g in zip(IMLE, GAIN, strict=True)]
    return [
        _run("imle", "softmax", IMLE),
        _run("dmle", "softmax", dmle),
        _run("imle", "topk", IMLE),
        _run("dmle", "topk", IMLE),
    ]


def test_table_means_stds_and_wilcoxon_by_hand():
    table = comparison_table(final_accuracies(_runs(), 100))
    soft = table[table.selection == "softmax"].iloc[0]
    assert soft["pairs"] == 8
    assert soft["imle_mean"] == pytest.approx(sum(IMLE) / 8)
    assert soft["dmle_mean"] == pytest.approx(sum(IMLE) / 8 + 0.045)
    assert soft["diff_mean"] == pytest.approx(0.045)
    # 8 positive differences: exact two-sided p = 2 / 2^8
    assert soft["p_two_sided"] == pytest.approx(2 / 256)
    topk = table[table.selection == "topk"].iloc[0]
    assert topk["p_two_sided"] == 1.0  # identical accuracies
    markdown = markdown_table(display_table(table))
    assert "| iris | entropy | 5 |" in markdown and "SSMS" in markdown and "p=0.008" in markdown


def test_runs_not_reaching_n_labeled_are_left_out():
    assert final_accuracies(_runs(), 50).empty


def test_curves_plot(tmp_path):
    plot_curves(_runs(), tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 1000
