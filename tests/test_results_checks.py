"""A report never aborts on one bad run and never uses a wrong one."""

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import ENTROPY, RANDOM, config, random_and_entropy, write_run

from deepal_bench.cli.report import main
from deepal_bench.metrics.records import TRIAL_METRICS, trial_metric
from deepal_bench.results import schema
from deepal_bench.results.collect import Run, collect, load_run
from deepal_bench.results.predictions import write_predictions, write_test_labels
from deepal_bench.results.records import pool_runs, trial_table
from deepal_bench.run import loop
from deepal_bench.sweeps.status import run_status


@pytest.fixture
def good(tmp_path) -> Path:
    root = tmp_path / "runs"
    random_and_entropy(root)
    return root


def damage(root: Path, name: str, edit) -> Path:
    """A copy of a good margin run, then `edit(path)` on it."""
    path = write_run(root / name, config("margin", seed=10), ENTROPY)
    edit(path)
    return path


def _replace(file: str, old: str, new: str):
    def edit(path: Path) -> None:
        text = (path / file).read_text()
        assert old in text
        (path / file).write_text(text.replace(old, new, 1))

    return edit


def _set_csv(file: str, row: int, column: str, value) -> callable:
    def edit(path: Path) -> None:
        frame = pd.read_csv(path / file, dtype=str, keep_default_na=False)
        frame.loc[row, column] = value
        frame.to_csv(path / file, index=False)

    return edit


def _pickled_test_labels(path: Path) -> None:
    """Stored test labels as a pickled object array (np.load would have to unpickle)."""
    (path / schema.PREDICTIONS_DIR).mkdir()
    labels = np.array([{"a": 1}] * 30, dtype=object)
    np.save(path / schema.PREDICTIONS_DIR / schema.TEST_LABELS_FILE, labels)


CASES = {
    "yaml_syntax": (_replace(schema.CONFIG_FILE, "strategy:", "strategy: ["), "damaged records"),
    "accuracy_abc": (_set_csv(schema.ROUNDS_FILE, 1, "accuracy", "abc"), "accuracy holds a blank"),
    "blank_aubc": (_set_csv(schema.SUMMARY_FILE, 1, "aubc", ""), "aubc holds a blank"),
    "aubc_099": (_set_csv(schema.SUMMARY_FILE, 0, "aubc", "0.99"), "aubc=0.99 for trial 0"),
    "accuracy_75": (_set_csv(schema.ROUNDS_FILE, 2, "accuracy", "7.5"), "outside [0, 1]"),
    "pickled_predictions": (_pickled_test_labels, "test_labels.npy holds dtype object"),
    "queries_cut_short": (
        lambda p: (p / schema.QUERIES_FILE).write_text(
            "\n".join((p / schema.QUERIES_FILE).read_text().splitlines()[:-5]) + "\n"
        ),
        "queries.csv does not hold the points queried in trial 2",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_damage_skips_the_run_with_its_reason(good, case):
    edit, reason = CASES[case]
    path = damage(good, case, edit)
    skipped = load_run(path)
    assert not hasattr(skipped, "rounds"), f"{case} was accepted"
    assert reason in skipped.reason


def test_one_bad_run_never_aborts_the_report(good, tmp_path, capsys):
    for case, (edit, _) in CASES.items():
        damage(good, case, edit)
    damage(good, "interpolation", _replace(schema.CONFIG_FILE, "name: margin", "name: ${no.where}"))
    labels = np.arange(30) % 3
    for name in ("random", "entropy"):
        write_test_labels(good / name, labels)
        for trial in range(3):
            for rnd in range(3):
                write_predictions(good / name, trial, rnd, labels)
    args = [str(good), "--out", str(tmp_path / "report"), "--no-figures", "--permutations", "20"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"3 runs used, {len(CASES)} skipped ({len(CASES)} damaged)" in out
    assert "| ${no.where} | 3 |" in out  # shown literally, never resolved


def test_the_trial_count_is_the_count_averaged(good, tmp_path, capsys):
    """A blank aubc was averaged over 2 trials while the table said 3."""
    damage(good, "blank", _set_csv(schema.SUMMARY_FILE, 1, "aubc", ""))
    main([str(good), "--out", str(tmp_path / "report"), "--no-figures"])
    out = capsys.readouterr().out
    assert "| margin |" not in out and "| entropy | 3 |" in out


def test_config_interpolations_are_never_resolved(tmp_path, monkeypatch):
    """`${oc.env:HOME}` in a colleague's config was resolved into the published tables."""
    monkeypatch.setenv("HOME", "/home/secret-user")
    cfg = config("random", dataset__name="${oc.env:HOME}")
    path = write_run(tmp_path / "run", cfg, RANDOM)
    run = load_run(path)
    assert run.config.dataset.name == "${oc.env:HOME}"
    runs, _ = collect([tmp_path])
    assert "secret-user" not in runs[0].setting


def _first_to_last(rounds: pd.DataFrame) -> float:
    """The accuracy gained from round 0 to the last round."""
    return float(rounds["accuracy"].iloc[-1] - rounds["accuracy"].iloc[0])


@contextmanager
def gain_registered():
    """`gain` registered as a trial metric for the block (as a module would with
    `@trial_metric("gain")`), unregistered afterwards."""
    trial_metric("gain")(_first_to_last)
    try:
        yield
    finally:
        del TRIAL_METRICS["gain"]


@pytest.fixture
def gain_metric():
    """A trial metric registered after the runs were recorded."""
    with gain_registered():
        yield


def test_a_new_trial_metric_never_damages_old_runs(good, gain_metric):
    """Adding a @trial_metric changed the summary columns, so every existing run was then
    reported damaged."""
    run = load_run(good / "random")
    assert isinstance(run, Run), run.reason
    assert run.summary["gain"].tolist() == pytest.approx([0.2, 0.22, 0.18])  # RANDOM's curves
    assert list(pd.read_csv(good / "random" / schema.SUMMARY_FILE)) == schema.SUMMARY_COLUMNS
    table = trial_table(pool_runs(collect([good])[0]).cells)
    table["strategy"] = [key.strategy.name for key in table["key"]]
    assert table.set_index(["strategy", "seed"])["gain"].to_dict() == pytest.approx(
        {("random", 0): 0.2, ("random", 1): 0.22, ("random", 2): 0.18,
         ("entropy", 0): 0.3, ("entropy", 1): 0.32, ("entropy", 2): 0.29}
    )  # fmt: skip
    statuses = [run_status(good / name) for name in ("random", "entropy")]
    assert [s.state for s in statuses] == ["complete", "complete"]


def test_a_recorded_run_gains_the_new_column_and_keeps_its_values(tiny_cfg):
    """A real run recorded before the metric existed: it loads with the new column, and the
    next launch that extends it rewrites summary.csv (derived from the rounds) with it."""
    cfg = tiny_cfg("trials=1")
    loop.run(cfg, cfg.output_dir)
    out = Path(cfg.output_dir)
    before = pd.read_csv(out / schema.SUMMARY_FILE)
    with gain_registered():
        rounds = pd.read_csv(out / schema.ROUNDS_FILE)
        expected = rounds["accuracy"].iloc[-1] - rounds["accuracy"].iloc[0]
        assert load_run(out).summary["gain"].tolist() == pytest.approx([expected])
        loop.run(tiny_cfg("trials=2"), cfg.output_dir)
        after = pd.read_csv(out / schema.SUMMARY_FILE)
    assert list(after) == [*schema.SUMMARY_COLUMNS, "gain"]
    pd.testing.assert_frame_equal(after.iloc[:1][list(before)], before)
    by_trial = pd.read_csv(out / schema.ROUNDS_FILE).groupby("trial")["accuracy"]
    assert after["gain"].tolist() == pytest.approx((by_trial.last() - by_trial.first()).tolist())


def test_only_the_known_summary_columns_present_are_compared(good):
    """A column the registry does not know (a metric since removed) is ignored; a known one
    that disagrees with the rounds still makes the run damaged."""
    path = good / "random"
    summary = pd.read_csv(path / schema.SUMMARY_FILE)
    summary.assign(retired=[9.0, 9.0, 9.0]).drop(columns=["f_acc"]).to_csv(
        path / schema.SUMMARY_FILE, index=False
    )
    run = load_run(path)
    assert isinstance(run, Run), run.reason
    assert run.summary["f_acc"].tolist() == pytest.approx([0.7, 0.72, 0.68])  # derived
    _set_csv(schema.SUMMARY_FILE, 0, "aubc", "0.99")(path)
    assert "aubc=0.99 for trial 0 disagrees" in load_run(path).reason
