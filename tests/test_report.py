"""The report on synthetic record directories written in the exact record format."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import ENTROPY, RANDOM, config, write_run

from deepal_bench.cli.report import main
from deepal_bench.report.labels import label_cells
from deepal_bench.results import schema
from deepal_bench.results.collect import DUPLICATE, collect, load_run
from deepal_bench.results.predictions import write_predictions, write_test_labels
from deepal_bench.results.records import pool_runs


def group_cells(runs, group_by=None):
    """Cells by (setting, strategy) label, the runs skipped as duplicates, the notes."""
    records = pool_runs(runs)
    labels = label_cells(records.all_cells, group_by)
    cells = {(labels.setting[c.key], labels.strategy[c.key]): c for c in records.cells}
    duplicates = [skip for skip in records.skipped if skip.kind == DUPLICATE]
    return cells, duplicates, labels.notes


@pytest.fixture
def sweep(tmp_path) -> Path:
    """A Hydra-multirun-like tree: random and entropy on digits, 3 trials each."""
    root = tmp_path / "runs"
    write_run(root / "digits/lenet/random/imle-topk/b/seed0-aaaa", config("random"), RANDOM)
    write_run(root / "digits/lenet/entropy/imle-topk/b/seed0-bbbb", config("entropy"), ENTROPY, 0.5)
    return root


def test_aubc_by_hand_in_synthetic_summary(sweep):
    runs, _ = collect([sweep])
    random = next(r for r in runs if r.strategy == "random")
    # ((.5+.6)*10/2 + (.6+.7)*10/2) / 20 = .6 ; seed 1: .615 ; seed 2: .585
    assert random.summary["aubc"].tolist() == pytest.approx([0.6, 0.615, 0.585])


def test_report_tables_figures_and_stdout(sweep, tmp_path, capsys):
    out = tmp_path / "report"
    assert main([str(sweep), "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    # random: mean .6, std .015 ; entropy: .675 .69 .6675 -> .6775 ± .011456
    assert "| entropy | 3 | 0.6775 ± 0.0115 | 0.8033 ± 0.0153 |" in stdout
    assert "| random | 3 | 0.6000 ± 0.0150 | 0.7000 ± 0.0200 |" in stdout
    assert stdout.index("| entropy |") < stdout.index("| random |")  # best AUBC first
    for name in ("aubc_facc", "cycles_auca", "win_tie_loss", "significance", "dueling_matrix"):
        for suffix in (".md", ".csv", ".tex"):
            assert (out / f"{name}{suffix}").is_file(), name + suffix
    for figure in ("curve_digits_lenet_10+20_10_imle-topk", "dueling_matrix", "auca_ratio_boxplot"):
        assert (out / "figures" / f"{figure}.png").stat().st_size > 1000
        assert (out / "figures" / f"{figure}.pdf").is_file()
    overall = pd.read_csv(out / "aubc_facc.csv").set_index("strategy")
    # time: random 3 x 1.0 s train; entropy + 2 x 0.5 s query -> 4/3
    assert overall.loc["entropy", "time_ratio"] == pytest.approx(4 / 3)
    assert overall.loc["random", "time_ratio"] == 1.0
    # AUCA over cycles 1-2, per seed vs Random's same seed: (.7+.8)/(.6+.7) etc.
    expected = np.mean([1.5 / 1.3, 1.54 / 1.34, 1.48 / 1.26])
    assert overall.loc["entropy", "auca_ratio_mean"] == pytest.approx(expected)
    assert overall.loc["random", "auca_ratio_std"] == 0.0
    assert overall.loc["entropy", "first_acc_mean"] == pytest.approx(0.7033333)
    wtl = pd.read_csv(out / "win_tie_loss.csv").set_index("strategy")
    assert wtl.loc["entropy", ["win", "tie", "loss", "rank"]].tolist() == [1, 0, 0, 1]
    significance = pd.read_csv(out / "significance.csv")
    assert significance.loc[0, "aubc_difference"] == pytest.approx((0.075 + 0.075 + 0.0825) / 3)
    index = (out / "index.md").read_text()
    assert "![dueling_matrix](figures/dueling_matrix.png)" in index
    assert "seed0-aaaa/config.yaml" in index and "[win_tie_loss.md](win_tie_loss.md)" in index
    assert r"0.6775 $\pm$ 0.0115" in (out / "aubc_facc.tex").read_text()


def test_incomplete_and_damaged_runs_are_reported_and_skipped(sweep, tmp_path, capsys):
    write_run(sweep / "incomplete", config("margin"), ENTROPY, done=False)
    bad_columns = write_run(sweep / "bad_columns", config("margin", seed=10), ENTROPY)
    frame = pd.read_csv(bad_columns / schema.ROUNDS_FILE).drop(columns=["accuracy"])
    frame.to_csv(bad_columns / schema.ROUNDS_FILE, index=False)
    missing_round = write_run(sweep / "missing_round", config("margin", seed=20), ENTROPY)
    frame = pd.read_csv(missing_round / schema.ROUNDS_FILE)
    frame.iloc[:-1].to_csv(missing_round / schema.ROUNDS_FILE, index=False)
    truncated = write_run(sweep / "truncated", config("margin", seed=30), ENTROPY)
    (truncated / schema.SUMMARY_FILE).write_text("trial,aubc,f_acc,total_seconds\n0,0.5,0.5,1\n")
    write_run(sweep / "nan_accuracy", config("margin", seed=40), [[0.5, np.nan, 0.7]] * 3)
    garbage = write_run(sweep / "garbage", config("margin", seed=50), ENTROPY)
    (garbage / schema.QUERIES_FILE).write_bytes(b"\x00\x01\x02")
    runs, skipped = collect([sweep])
    reasons = {s.path.name: s.reason for s in skipped}
    assert {r.strategy for r in runs} == {"random", "entropy"}
    assert reasons["incomplete"].startswith("incomplete")
    assert "rounds.csv lacks accuracy" in reasons["bad_columns"]
    assert "rounds [0, 1] for trial 2" in reasons["missing_round"]
    assert "summary.csv has trials [0], expected 0..2" in reasons["truncated"]
    assert "column accuracy holds a blank" in reasons["nan_accuracy"]
    assert reasons["garbage"].startswith("damaged records")
    out = tmp_path / "report"
    assert main([str(sweep), "--out", str(out), "--no-figures"]) == 0
    captured = capsys.readouterr()
    assert "margin" not in captured.out
    assert captured.err.count("skipped ") == 6
    index = (out / "index.md").read_text()
    assert "## Skipped runs" in index and "missing_round" in index


def test_runs_pool_only_when_configs_match(tmp_path):
    root = tmp_path / "runs"
    write_run(root / "a", config("random", seed=0, trials=2), RANDOM[:2])
    write_run(root / "b", config("random", seed=2, trials=1), RANDOM[2:])  # same config, seed 2
    write_run(root / "c", config("entropy", trials=3, trainer__epochs=5), ENTROPY)
    write_run(root / "d", config("random", trials=3), RANDOM)  # same seeds as a + b
    runs, _ = collect([root])
    by_key, duplicates, notes = group_cells(runs)
    base = "digits/lenet/10+20/10/imle-topk"
    pooled = by_key[(f"{base} [trainer.epochs=20]", "random")]
    assert sorted(r.path.name for r in pooled.runs) == ["a", "b"]
    assert (f"{base} [trainer.epochs=5]", "entropy") in by_key
    assert notes == [
        f"{base}: 2 configs differ in trainer.epochs; their runs are not averaged together"
    ]
    assert [d.path.name for d in duplicates] == ["d"]
    assert "duplicate trials (seeds [0, 1, 2])" in duplicates[0].reason


def test_strategy_variants_are_kept_apart_and_group_by(tmp_path, capsys):
    root = tmp_path / "runs"
    write_run(root / "a", config("random"), RANDOM)
    write_run(root / "b", {**config("bald"), "strategy": {"name": "bald", "passes": 10}}, ENTROPY)
    write_run(root / "c", {**config("bald"), "strategy": {"name": "bald", "passes": 20}}, ENTROPY)
    write_run(root / "d", config("random", budget__quota=10), [c[:2] for c in RANDOM])
    runs, _ = collect([root])
    cells, _, notes = group_cells(runs, group_by=("dataset.name",))
    labels = sorted(cells)
    assert ("digits [budget.quota=20]", "bald [strategy.passes=10]") in labels
    assert ("digits [budget.quota=20]", "bald [strategy.passes=20]") in labels
    assert ("digits [budget.quota=10]", "random") in labels
    assert len(notes) == 2
    assert (
        main(
            [str(root), "--out", str(tmp_path / "r"), "--group-by", "dataset.name", "--no-figures"]
        )
        == 0
    )
    assert "### digits [budget.quota=10]" in capsys.readouterr().out


def test_full_data_row_and_paper_comparison(sweep, tmp_path):
    full = config("random", budget__initial=1258, budget__quota=0)
    write_run(sweep / "full", full, [[0.95], [0.97], [0.96]])
    paper_dir = tmp_path / "paper"
    paper_dir.mkdir()
    digits = "dataset.name=digits;model.name=lenet;budget.initial=10;budget.quota=20"
    pd.DataFrame(
        [
            [
                "p",
                "1",
                "Digits",
                "entropy",
                "aubc",
                0.7,
                "fraction",
                f"{digits};budget.batch=10;strategy.name=entropy",
            ],
            [
                "p",
                "1",
                "DIGITS",
                "full",
                "f_acc",
                95.0,
                "percent",
                "dataset.name=digits;budget.initial=1258;budget.quota=0",
            ],
            [
                "p",
                "1",
                "digits",
                "entropy",
                "aubc",
                0.1,
                "fraction",
                f"{digits};budget.batch=500;strategy.name=entropy",
            ],
            [
                "p",
                "1",
                "mnist",
                "entropy",
                "aubc",
                0.9,
                "fraction",
                "dataset.name=mnist;strategy.name=entropy",
            ],
        ],
        columns=["paper", "table", "dataset", "strategy", "metric", "mean", "unit", "where"],
    ).to_csv(paper_dir / "p.csv", index=False)
    out = tmp_path / "report"
    assert main([str(sweep), "--out", str(out), "--paper-dir", str(paper_dir), "--no-figures"]) == 0
    assert "| Full (n=1258) | 3 | — | 0.9600 ± 0.0100 | — |" in (out / "aubc_facc.md").read_text()
    comparison = pd.read_csv(out / "paper_comparison.csv")
    assert sorted(comparison["strategy"]) == ["entropy", "full"]
    row = comparison.set_index("strategy").loc["entropy"]
    assert row["difference"] == pytest.approx(0.6775 - 0.7)
    assert comparison.set_index("strategy").loc["full", "paper_mean"] == pytest.approx(0.95)
    unmatched = pd.read_csv(out / "paper_comparison_unmatched.csv")
    assert unmatched["differs"].tolist() == ["budget.batch: ours 10, paper 500"]


def test_permutation_table_from_stored_predictions(sweep, tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 300)
    write_test_labels(sweep / "digits/lenet/random/imle-topk/b/seed0-aaaa", labels)
    write_test_labels(sweep / "digits/lenet/entropy/imle-topk/b/seed0-bbbb", labels)
    for name, skill in (
        ("random/imle-topk/b/seed0-aaaa", 0.5),
        ("entropy/imle-topk/b/seed0-bbbb", 0.95),
    ):
        for trial in range(3):
            for rnd in range(3):
                pred = np.where(rng.random(300) < skill, labels, (labels + 1) % 3)
                write_predictions(sweep / "digits/lenet" / name, trial, rnd, pred)
    out = tmp_path / "report"
    assert main([str(sweep), "--out", str(out), "--permutations", "200", "--no-figures"]) == 0
    table = pd.read_csv(out / "permutation.csv")
    assert table.loc[0, "strategy"] == "entropy" and table.loc[0, "trials"] == 3
    assert table.loc[0, "last_p"] == 0.0 and table.loc[0, "auca_ratio_p"] == 0.0


def test_cli_errors(tmp_path, capsys):
    assert main([str(tmp_path / "nope")]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([str(empty)]) == 1
    assert "no complete run found" in capsys.readouterr().err


def test_load_run_rejects_bad_config(tmp_path):
    path = write_run(tmp_path / "r", config("random"), RANDOM)
    (path / schema.CONFIG_FILE).write_text("dataset: {name: digits}\ntrials: x\n")
    assert load_run(path).reason.startswith("damaged records")


def test_group_columns_give_table8_and_group_curves(sweep, tmp_path):
    for path in sweep.rglob(schema.ROUNDS_FILE):
        rounds = pd.read_csv(path)
        rounds["worst_group_accuracy"] = rounds["accuracy"] - 0.1
        rounds["mismatch_accuracy"] = rounds["accuracy"] - 0.05
        rounds.to_csv(path, index=False)
    out = tmp_path / "report"
    assert main([str(sweep), "--out", str(out)]) == 0
    groups = pd.read_csv(out / "groups.csv").set_index("strategy")
    # a shifted curve has a shifted AUBC: random .6 - .1 ; F-acc .7 - .1
    assert groups.loc["random", "worst_group_accuracy_aubc_mean"] == pytest.approx(0.5)
    assert groups.loc["random", "worst_group_accuracy_aubc_std"] == pytest.approx(0.015)
    assert groups.loc["entropy", "mismatch_accuracy_f_acc_mean"] == pytest.approx(0.8033333 - 0.05)
    assert "| entropy | 0.6275 ± 0.0115 |" in (out / "groups.md").read_text()
    figure = out / "figures" / "curve_digits_lenet_10+20_10_imle-topk_worst_group_accuracy.png"
    assert figure.stat().st_size > 1000
