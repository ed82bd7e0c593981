"""Fencing: a run whose lock was taken over can make no write visible, and a run whose
heartbeat fails stops before its next commit.

The superseded writer is a real process stopped (SIGSTOP) right after a commit (its next
writes then begin after it is continued) or in the middle of one, right before it renames
a record into place (rounds.csv, a prediction file, DONE), for longer than its lease;
another process takes over and finishes the run; then the first is continued (SIGCONT).
Not one file of the run directory may change after that, and the records equal an
uninterrupted run's.
"""

import hashlib
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from racing import LOST, Injected, cfg_yaml, run_child, start, stopped, wait_until
from support import TINY, assert_same_records, run_cli

from deepal_bench.results import schema
from deepal_bench.results.predictions import read_predictions
from deepal_bench.run import loop
from deepal_bench.run.store import LockLost

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference") / "run"
    process = start(run_child, cfg_yaml(out, "store_predictions=true"))
    process.join(120)
    assert process.exitcode == 0
    return out


def snapshot(out: Path) -> dict[str, tuple[int, str]]:
    """Every record file of the run directory: its inode and a hash of its bytes (a rename
    into place changes the inode even when the bytes are the same)."""
    files = [p for p in out.rglob("*") if p.is_file() and ".hydra" not in p.parts]
    return {
        str(p.relative_to(out)): (p.stat().st_ino, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in files
        if p.name != schema.LOG_FILE
    }


@pytest.mark.parametrize(
    "stop_at",
    [
        (schema.SUMMARY_FILE, 1, "after"),  # then it computes round 1 and writes its predictions
        (schema.ROUNDS_FILE, 2, "before"),
        ("trial0-round1.npy", 1, "before"),
        (schema.DONE_FILE, 1, "before"),
    ],
)
def test_a_writer_stopped_past_its_lease_and_taken_over_writes_nothing(
    tmp_path, reference, stop_at
):
    """After SIGSTOP past the lease and a takeover, one write still landed before the old
    writer's heartbeat noticed; prediction files were written without any check."""
    out = tmp_path / "run"
    cfg = cfg_yaml(out, "store_predictions=true", "lock_timeout=1")
    old = start(run_child, cfg, Injected(stop_at=stop_at))
    wait_until(lambda: stopped(old.pid), what="the first writer to stop itself")
    time.sleep(1.5)  # past its lease of 1 s
    new = start(run_child, cfg)
    new.join(120)
    assert new.exitcode == 0
    finished = snapshot(out)
    os.kill(old.pid, signal.SIGCONT)
    old.join(60)
    assert snapshot(out) == finished
    assert old.exitcode == LOST
    assert not (out / schema.LOCK_FILE).exists() and not list(out.glob(".lock-*"))
    assert_same_records(out, reference)
    labels, predictions = read_predictions(out)
    expected_labels, expected = read_predictions(reference)
    np.testing.assert_array_equal(labels, expected_labels)
    assert predictions.keys() == expected.keys()
    for key, pred in predictions.items():
        np.testing.assert_array_equal(pred, expected[key])


def _failing_heartbeat(monkeypatch, after: float) -> None:
    """Every heartbeat write fails with EIO once `after` seconds have passed."""
    start_time = time.monotonic()
    for name in ("replace", "pwrite"):
        real = getattr(os, name)

        def failing(*args, _real=real, **kwargs):
            heartbeat = threading.current_thread().name == "run-lock"
            if heartbeat and time.monotonic() - start_time > after:
                raise OSError(5, "Input/output error (injected)")
            return _real(*args, **kwargs)

        monkeypatch.setattr(os, name, failing)


def _slow_saves(monkeypatch, seconds: float) -> None:
    from deepal_bench.run.store import RunStore

    save = RunStore.save

    def slow(self, state):
        time.sleep(seconds)
        save(self, state)

    monkeypatch.setattr(RunStore, "save", slow)


def test_a_failing_heartbeat_stops_the_run_before_its_next_commit(tiny_cfg, monkeypatch):
    """An exception in the heartbeat thread killed it silently, and the run went on writing
    without a lease."""
    cfg = tiny_cfg("lock_timeout=1", name="failing")
    out = Path(cfg.output_dir)
    _slow_saves(monkeypatch, 0.6)
    _failing_heartbeat(monkeypatch, after=0.3)
    with pytest.raises(LockLost, match="heartbeat failed .*Input/output error"):
        loop.run(cfg, out)
    assert not (out / schema.DONE_FILE).exists()
    assert not (out / schema.STATE_FILE).exists()  # the first save came after the failure
    assert not (out / schema.LOCK_FILE).exists()


def test_the_cli_says_so_in_one_paragraph(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    _slow_saves(monkeypatch, 0.6)
    _failing_heartbeat(monkeypatch, after=0.3)
    status = run_cli(monkeypatch, *TINY, "lock_timeout=1", f"output_dir={out}")
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    assert "lost the lock of output_dir" in err and "heartbeat failed" in err
    assert err.count("\n") == 1
    assert not (out / schema.STATE_FILE).exists()
