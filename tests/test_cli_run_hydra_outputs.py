"""A refused config leaves the run directory as it was: no `.hydra/`, no job log (Hydra
wrote both before the checks); a run that passed them gets both beside its records."""

from pathlib import Path

import pytest
import yaml
from support import run_cli

TINY = ["dataset=wine", "trials=1", "budget.initial=10", "budget.batch=10", "budget.quota=10",
        "trainer.epochs=1", "progress=false"]  # fmt: skip


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())


@pytest.mark.parametrize(
    "bad",
    ["trainer.lr=inf", "seed=-1", "budget.quota=100000", "dataset.test_size=100000"],
    ids=["typed", "seed", "against-the-pool", "dataset"],
)
def test_a_refused_config_leaves_no_hydra_folder_and_no_log(monkeypatch, capsys, tmp_path, bad):
    run = tmp_path / "run"
    assert run_cli(monkeypatch, *TINY, f"output_dir={run}", bad) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert files(run) == []


def test_a_run_writes_hydra_outputs_beside_its_records(monkeypatch, tmp_path):
    run = tmp_path / "run"
    assert run_cli(monkeypatch, *TINY, f"output_dir={run}") == 0
    assert {".hydra/config.yaml", ".hydra/hydra.yaml", ".hydra/overrides.yaml",
            "deepal-bench.log", "config.yaml", "DONE"} <= set(files(run))  # fmt: skip
    overrides = yaml.safe_load((run / ".hydra" / "overrides.yaml").read_text())
    assert f"output_dir={run}" in overrides and "dataset=wine" in overrides
    assert yaml.safe_load((run / ".hydra" / "config.yaml").read_text())["dataset"]["name"] == "wine"


def test_hydra_outputs_are_not_written_through_a_planted_link(monkeypatch, capsys, tmp_path):
    run, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    elsewhere.mkdir()
    run.mkdir()
    (run / ".hydra").symlink_to(elsewhere)
    assert run_cli(monkeypatch, *TINY, f"output_dir={run}") == 2
    err = capsys.readouterr().err
    assert "holds .hydra (a symbolic link) where deepal-bench reads or writes" in err
    assert list(elsewhere.iterdir()) == [] and files(run) == [] and (run / ".hydra").is_symlink()


def test_a_sweep_leaves_nothing_in_the_refused_jobs_folder(monkeypatch, capsys, tmp_path):
    sweep = [*TINY, "strategy=random", "budget.quota=100000,10", f"results_root={tmp_path}"]
    status = run_cli(monkeypatch, "-m", *sweep)
    assert status == 2
    assert "1 job(s) of the sweep failed" in capsys.readouterr().err
    (done,) = [p.parent for p in tmp_path.rglob("DONE")]
    assert (done / ".hydra" / "overrides.yaml").is_file() and (done / "deepal-bench.log").is_file()
    runs = [p for p in tmp_path.rglob("seed0-*") if p != done]
    assert len(runs) == 1 and files(runs[0]) == []
