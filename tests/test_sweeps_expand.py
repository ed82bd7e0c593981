"""A sweep's jobs and run directories, known without launching it."""

import sys

from deepal_bench.cli import run as cli
from deepal_bench.results import schema
from deepal_bench.sweeps.expand import expand, job_overrides


def test_preset_grids_and_command_line_sweeps_expand_like_hydra():
    assert len(job_overrides([])) == 6  # the embedded default sweep
    assert len(job_overrides(["experiment=falcun/mnist"])) == 8
    assert len(job_overrides(["experiment=deepal_plus/table5"])) == 80
    jobs = job_overrides(["strategy=random,entropy", "dataset=digits,wine"])
    assert sorted(" ".join(sorted(j)) for j in jobs) == sorted(
        f"dataset={d} strategy={s}" for s in ("random", "entropy") for d in ("digits", "wine")
    )


def test_expanded_run_dirs_are_the_ones_the_sweep_writes(tmp_path, monkeypatch):
    overrides = [
        "strategy=random,entropy", "dataset=wine", "trials=1", "budget.initial=10",
        "budget.batch=10", "budget.quota=10", "trainer.epochs=1", "progress=false",
        f"results_root={tmp_path}",
    ]  # fmt: skip
    expected = sorted(job.run_dir for job in expand(overrides))
    monkeypatch.setattr(sys, "argv", ["deepal-bench", "-m", *overrides])
    cli.main()
    written = sorted(str(p.parent) for p in tmp_path.rglob(schema.DONE_FILE))
    assert written == expected and len(written) == 2
