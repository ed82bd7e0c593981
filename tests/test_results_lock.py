"""One owner per run directory: the lock file, its heartbeat and stale takeover."""

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deepal_bench.errors import ConfigError
from deepal_bench.results import schema
from deepal_bench.results.lock import LockHeld, RunLock, read_holder
from deepal_bench.run import loop


def write_lock(run_dir, host: str, pid: int, heartbeat: float) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    holder = {"host": host, "pid": pid, "token": "t0", "since": heartbeat, "heartbeat": heartbeat}
    (run_dir / schema.LOCK_FILE).write_text(json.dumps(holder))


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_live_holder_refuses_a_second_owner_by_name(tmp_path):
    with (
        RunLock(tmp_path, timeout=60),
        pytest.raises(LockHeld, match=rf"{socket.gethostname()}:\d+ since "),
    ):
        RunLock(tmp_path, timeout=60).acquire()
    assert not (tmp_path / schema.LOCK_FILE).exists()


def test_a_dead_pid_on_this_host_is_taken_over(tmp_path):
    write_lock(tmp_path, socket.gethostname(), dead_pid(), time.time())
    lock = RunLock(tmp_path, timeout=3600)
    lock.acquire()
    assert lock.took_over is not None and lock.took_over.token == "t0"
    assert read_holder(tmp_path / schema.LOCK_FILE).token == lock.me.token
    lock.release()


def test_another_host_is_stale_only_after_the_timeout(tmp_path):
    write_lock(tmp_path, "node-17", 4242, time.time() - 30)
    with pytest.raises(LockHeld, match="node-17:4242"):
        RunLock(tmp_path, timeout=60).acquire()
    lock = RunLock(tmp_path, timeout=10)
    lock.acquire()
    assert lock.took_over.host == "node-17"
    lock.release()


def test_the_heartbeat_is_refreshed_and_a_takeover_is_noticed(tmp_path):
    lock = RunLock(tmp_path, timeout=60, interval=0.05)
    lock.acquire()
    first = read_holder(tmp_path / schema.LOCK_FILE).heartbeat
    time.sleep(0.3)
    assert read_holder(tmp_path / schema.LOCK_FILE).heartbeat > first
    write_lock(tmp_path, "node-2", 7, time.time())  # someone judged us stale
    time.sleep(0.3)
    with pytest.raises(Exception, match="node-2:7"):
        lock.check()
    lock.release()
    assert read_holder(tmp_path / schema.LOCK_FILE).host == "node-2"  # not ours to remove


def test_a_run_directory_in_use_is_refused_with_the_holder(tiny_cfg):
    """Finding 2: a requeued job while the old one still runs must not write."""
    cfg = tiny_cfg(name="busy")
    Path(cfg.output_dir).mkdir()
    with (
        RunLock(cfg.output_dir, timeout=60),
        pytest.raises(ConfigError, match=r"is in use by .*:\d+ since"),
    ):
        loop.run(cfg, cfg.output_dir)


def test_a_run_left_locked_by_a_killed_job_resumes_and_says_so(tiny_cfg, caplog):
    """A pre-empted job's LOCK stays behind; its requeued run takes it over, logs whose it
    was, finishes and releases it."""
    cfg = tiny_cfg(name="requeued")
    pid = dead_pid()
    write_lock(Path(cfg.output_dir), "node-3", pid, time.time() - 7200)
    with caplog.at_level("WARNING", logger="deepal_bench"):
        state = loop.run(cfg, cfg.output_dir)
    assert len(state.summary) == cfg.trials
    assert (Path(cfg.output_dir) / schema.DONE_FILE).exists()
    assert f"took over the stale lock of node-3:{pid}" in caplog.text
    assert not (Path(cfg.output_dir) / schema.LOCK_FILE).exists()
