"""Real launchers (joblib, submitit's local executor): a 4-job sweep killed mid-way and
relaunched ends with every job complete and records identical to a sequential sweep."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import assert_same_records

from deepal_bench.cli import run as cli
from deepal_bench.results import schema

pytestmark = pytest.mark.slow
SWEEP = [
    "strategy=random,entropy,margin,kcenter", "dataset=wine", "trials=2", "budget.initial=10",
    "budget.batch=10", "budget.quota=30", "trainer.epochs=20", "progress=false", "threads=1",
]  # fmt: skip
LAUNCHERS = {
    "joblib": ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
    "submitit_local": ["hydra/launcher=local", "hydra.launcher.timeout_min=10"],
}


def done_runs(root: Path) -> dict[str, Path]:
    return {str(p.parent.relative_to(root)): p.parent for p in root.rglob(schema.DONE_FILE)}


def kill_everything_of(process: subprocess.Popen, root: Path) -> None:
    """SIGKILL the launcher, its process group and every process working under `root`
    (submitit starts its jobs in sessions of their own)."""
    os.killpg(process.pid, signal.SIGKILL)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(root) in (entry / "cmdline").read_bytes().decode(errors="ignore"):
                    os.kill(int(entry.name), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                continue
    process.wait()


def launch(root: Path, launcher: list[str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "deepal_bench", "-m", *SWEEP, f"results_root={root}"]
    return subprocess.Popen([*command, *launcher], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


@pytest.fixture(scope="module")
def sequential(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sequential")
    old = sys.argv
    sys.argv = ["deepal-bench", "-m", *SWEEP, f"results_root={root}"]
    try:
        cli.main()
    finally:
        sys.argv = old
    assert len(done_runs(root)) == 4
    return root


@pytest.mark.parametrize("name", sorted(LAUNCHERS))
def test_a_killed_sweep_relaunched_ends_like_a_sequential_one(tmp_path, sequential, name):
    root = tmp_path / name
    first = launch(root, LAUNCHERS[name])
    deadline = time.time() + 300
    while not done_runs(root) and time.time() < deadline:
        time.sleep(0.2)
    kill_everything_of(first, root)
    assert 1 <= len(done_runs(root)) < 4, "the kill was not mid-way"
    second = launch(root, LAUNCHERS[name])
    assert second.wait(timeout=600) == 0
    finished, reference = done_runs(root), done_runs(sequential)
    assert sorted(finished) == sorted(reference)
    for key, path in finished.items():
        assert_same_records(path, reference[key])
