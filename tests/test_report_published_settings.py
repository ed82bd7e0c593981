"""Exact paper-cell matching against results/paper/, through the two report commands: runs
whose settings differ from a published cell's match none of them (each case below once
matched), and the unmatched cells say which setting differs. The runs of every preset
matching their own table's cells: test_report_published_presets.py."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from support import write_run

from deepal_bench.cli.paper import main as paper_main
from deepal_bench.cli.report import main as report_main
from deepal_bench.paths import CONF_DIR, PAPER_DIR
from deepal_bench.results.identity import identity


def composed(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=False)


def run_config(*overrides: str, trials: int = 1) -> dict:
    """A job's config as its run directory records it (resolved, no output paths)."""
    return {**identity(composed(*overrides)), "trials": trials}


def curve(config: dict, start: float = 0.5, end: float = 0.9) -> list[float]:
    b = config["budget"]
    rounds = math.ceil(b["quota"] / b["batch"]) + 1
    return list(np.linspace(start, end, rounds))


def report(tmp_path: Path, family: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(matched, unmatched) published cells of the runs under tmp_path/runs."""
    out, runs = tmp_path / "out", str(tmp_path / "runs")
    if family:
        assert paper_main([family, runs, "--out", str(out), "--no-figures"]) == 0
        stem = f"{family}_vs_paper"
    else:
        assert report_main([runs, "--out", str(out), "--no-figures"]) == 0
        stem = "paper_comparison"
    matched = pd.read_csv(out / f"{stem}.csv", dtype={"table": str})
    unmatched = out / f"{stem}_unmatched.csv"
    return matched, pd.read_csv(unmatched, dtype={"table": str}) if unmatched.is_file() else None


# ----------------------------------------------------------------- cells that once matched


def test_a_lenet_mnist_run_matches_no_deepal_plus_resnet18_cell(tmp_path):
    """LeNet, 100 initial + 10 x 50, entropy on MNIST was shown against DeepAL+'s ResNet18
    MNIST cells (500 + 40 x 250), with and without pre-training: 6 rows."""
    cfg = run_config("dataset=mnist", "model=lenet", "strategy=entropy", "budget.initial=100",
                     "budget.batch=50", "budget.quota=500")  # fmt: skip
    write_run(tmp_path / "runs" / "entropy", cfg, [curve(cfg)])
    matched, unmatched = report(tmp_path)
    assert matched.empty
    deepal = unmatched[(unmatched["paper"] == "deepal_plus") & (unmatched["metric"] == "aubc")]
    assert sorted(deepal["table"]) == ["1", "4", "4"]
    for differs in deepal["differs"]:
        assert "model.name: ours lenet, paper resnet18" in differs
        assert "budget.initial: ours 100, paper 500" in differs
        assert "budget.batch: ours 50, paper 250" in differs


def _ralif_run(tmp_path: Path, name: str, *overrides: str) -> None:
    cfg = run_config("experiment=ralif/cifar10", *overrides)
    write_run(tmp_path / "runs" / name, cfg, [curve(cfg, 0.5 + 0.01 * len(overrides))])


def test_a_ralif_cifar10_run_matches_only_the_cells_of_its_settings(tmp_path):
    """A RALIF CIFAR-10 run matched 17 cells, among them VGG16, EfficientNet, scratch, every
    tau and rows noted "never matched"."""
    _ralif_run(tmp_path, "ralif", "strategy=ralif")
    _ralif_run(tmp_path, "random", "strategy=random")
    matched, _ = report(tmp_path)
    ralif = matched[matched["strategy"] == "ralif"]
    assert sorted(ralif["table"].unique()) == ["1", "2", "4"]  # truncated-IL + k-means++
    assert sorted(ralif["metric"]) == sorted(["first_acc", "last_acc", "auca_ratio"] * 3)
    for where in matched["where"]:
        assert "model.name=resnet18;model.stem=imagenet;model.pretrained=true" in where
    assert ralif["where"].str.contains("strategy.tau=null").all()  # not Table 3's taus
    notes = pd.concat(pd.read_csv(PAPER_DIR / f"ralif_table{n}.csv") for n in range(1, 8))
    chosen = notes[notes["where"].isin(matched["where"])]
    assert len(chosen) and not chosen["note"].str.contains("never", na=False).any()


@pytest.mark.parametrize(
    ("option", "table"),
    [("strategy.variant=single", "1"), ("strategy.tau=0.2", "3"),
     ("strategy.diversity=meanshift", "4")],
)  # fmt: skip
def test_ralif_variants_match_their_ablation_row_not_table_2(tmp_path, option, table):
    """RALIF Table 2 rows named no variant, tau or diversity: every variant matched them."""
    _ralif_run(tmp_path, "ralif", "strategy=ralif", option)
    matched, _ = report(tmp_path, "ralif")
    assert set(matched["table"]) == {table}


@pytest.mark.parametrize("change", ["budget=falcun_m", "model=resnet18"])
def test_a_falcun_emnist_run_of_another_batch_or_model_is_not_table_3(tmp_path, change):
    """FALCUN Table 3 rows named neither the query size nor the model."""
    cfg = run_config("experiment=falcun/emnist", "strategy=falcun", change)
    write_run(tmp_path / "runs" / "falcun", cfg, [curve(cfg)])
    matched, unmatched = report(tmp_path, "falcun")
    assert matched.empty
    assert set(unmatched["table"]) == {"3"}
    assert unmatched["differs"].str.contains("budget.batch|model.name").all()
    cfg = run_config("experiment=falcun/emnist", "strategy=falcun")
    write_run(tmp_path / "runs" / "own", cfg, [curve(cfg)])
    assert set(report(tmp_path, "falcun")[0]["table"]) == {"3"}


def test_deepal_plus_ablation_runs_match_section_3_3_not_table_5(tmp_path):
    """DeepAL+ rows named neither the AL batch nor the epochs: Fig. 2's runs matched Table 5."""
    for strategy in ("random", "entropy", "waal"):
        for epochs in (5, 30):
            cfg = run_config("experiment=deepal_plus/ablation", f"strategy={strategy}",
                             "budget.batch=10000", f"trainer.epochs={epochs}")  # fmt: skip
            start = {"random": 0.6, "entropy": 0.62, "waal": 0.8}[strategy]
            write_run(tmp_path / "runs" / f"{strategy}{epochs}", cfg, [curve(cfg, start)])
    matched, _ = report(tmp_path, "deepal_plus")
    assert set(matched["table"]) == {"§3.3"}
    assert len(matched) == 4  # random at 5 and 30 epochs, WAAL at 5, Entropy's gain at 30
    random = matched[matched["strategy"] == "random"].set_index("paper_mean")
    assert random.loc[0.66, "setting"].endswith("[trainer.epochs=5]")
    assert random.loc[0.80, "setting"].endswith("[trainer.epochs=30]")
    # linear curves over the same budget: AUBC (start + 0.9) / 2, a gain of 0.02 / 2
    gain = matched[matched["metric"] == "aubc_gain_vs_random"].iloc[0]
    assert gain["ours_mean"] == pytest.approx(0.01) and gain["paper_mean"] == pytest.approx(0.015)
