"""End-to-end: the console entry point writes records, a sweep skips finished runs, report."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from deepal_bench.results import schema

ARGS = [
    "trials=2",
    "budget.initial=20",
    "budget.batch=20",
    "budget.quota=40",
    "trainer.epochs=3",
    "progress=false",
]


def run_cli(*args: str, module: str = "deepal_bench", cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


@pytest.mark.slow
def test_sweep_writes_records_skips_finished_runs_and_reports(tmp_path):
    sweep = ["-m", f"results_root={tmp_path}", *ARGS, "strategy=random,margin"]
    first = run_cli(*sweep, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    runs = sorted(p.parent for p in tmp_path.rglob(schema.DONE_FILE))
    assert [p.relative_to(tmp_path).parts[:3] for p in runs] == [
        ("digits", "auto", "margin"),
        ("digits", "auto", "random"),
    ]
    for run in runs:
        rounds = pd.read_csv(run / schema.ROUNDS_FILE)
        assert rounds.n_labeled.tolist() == [20, 40, 60] * 2
        assert rounds.accuracy.between(0, 1).all()
        assert (run / ".hydra" / "overrides.yaml").exists()
    stamps = {run: (run / schema.ROUNDS_FILE).stat().st_mtime_ns for run in runs}

    again = run_cli(*sweep, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert {run: (run / schema.ROUNDS_FILE).stat().st_mtime_ns for run in runs} == stamps

    report = run_cli(
        str(tmp_path), "--out", str(tmp_path / "report"), module="deepal_bench.cli.report"
    )
    assert report.returncode == 0, report.stderr
    assert "| margin | 2 |" in report.stdout and "| random | 2 |" in report.stdout
    table = pd.read_csv(tmp_path / "report" / "aubc_facc.csv")
    summaries = pd.concat(pd.read_csv(r / schema.SUMMARY_FILE) for r in runs if "margin" in r.parts)
    margin = table.set_index("strategy").loc["margin"]
    assert margin.aubc_mean == pytest.approx(summaries.aubc.mean())
    assert margin.aubc_std == pytest.approx(summaries.aubc.std())


def test_single_run_from_another_working_directory(tmp_path):
    out = tmp_path / "explicit"
    result = run_cli(f"output_dir={out}", *ARGS, "trials=1", "dataset=iris", cwd=Path("/"))
    assert result.returncode == 0, result.stderr
    assert "mean AUBC" in result.stdout and str(out) in result.stdout
    assert (out / schema.DONE_FILE).exists()
    cfg = (out / schema.CONFIG_FILE).read_text()
    assert "name: iris" in cfg and f"output_dir: {out}" in cfg
