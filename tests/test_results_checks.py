"""A report never aborts on one bad run and never uses a wrong one."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import ENTROPY, RANDOM, config, write_run

from deepal_bench.cli.report import main
from deepal_bench.results import schema
from deepal_bench.results.collect import collect, load_run
from deepal_bench.results.predictions import write_predictions, write_test_labels


@pytest.fixture
def good(tmp_path) -> Path:
    root = tmp_path / "runs"
    write_run(root / "random", config("random"), RANDOM)
    write_run(root / "entropy", config("entropy"), ENTROPY)
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
    "pickled_predictions": (_pickled_test_labels, "predictions: Object arrays cannot be loaded"),
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
