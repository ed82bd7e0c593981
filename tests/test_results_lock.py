"""One owner per run directory: the lease in LOCK, judged by watching its heartbeat on the
reader's monotonic clock, fencing of a holder that lost it, and failing closed."""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support import TINY, run_cli

from deepal_bench.errors import ConfigError
from deepal_bench.results import schema
from deepal_bench.results.lock import (
    MACHINE,
    STAGE_PREFIX,
    LockHeld,
    LockLost,
    RunLock,
    read_holder,
    sight,
)
from deepal_bench.run import loop

TOKEN = "0123456789abcdef"


def write_lock(run_dir, host: str, pid: int, heartbeat: float, **fields) -> None:
    """A LOCK as a holder writes it; `lease=` etc. make it one of this version."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    holder = {"host": host, "pid": pid, "token": TOKEN, "since": heartbeat,
              "heartbeat": heartbeat, **fields}  # fmt: skip
    (run_dir / schema.LOCK_FILE).write_text(json.dumps(holder))
    if "lease" in fields:
        (run_dir / f"{STAGE_PREFIX}{TOKEN}").mkdir(exist_ok=True)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def acquire_timed(run_dir, lease: float) -> tuple[RunLock, float]:
    lock = RunLock(run_dir, lease=lease)
    start = time.monotonic()
    lock.acquire()
    return lock, time.monotonic() - start


def test_a_live_holder_refuses_a_second_owner_by_name(tmp_path):
    with RunLock(tmp_path, lease=1) as holder:
        start = time.monotonic()
        with pytest.raises(LockHeld, match=rf"{socket.gethostname()}:\d+ since .*lease of 1 s"):
            RunLock(tmp_path, lease=60).acquire()
        assert time.monotonic() - start < 1  # refused on its first heartbeat, not a lease
        assert read_holder(tmp_path / schema.LOCK_FILE).token == holder.me.token
    assert list(tmp_path.iterdir()) == []  # LOCK released, no staging folder left


def test_a_dead_pid_on_this_machine_is_taken_over_at_once(tmp_path):
    write_lock(tmp_path, socket.gethostname(), dead_pid(), time.time(), lease=3600,
               machine=MACHINE)  # fmt: skip
    lock, waited = acquire_timed(tmp_path, 3600)
    assert waited < 1 and lock.took_over.holder.token == TOKEN
    assert read_holder(tmp_path / schema.LOCK_FILE).token == lock.me.token
    assert not (tmp_path / f"{STAGE_PREFIX}{TOKEN}").exists()  # the old holder is fenced
    lock.release()


def test_a_killed_job_of_an_older_version_on_this_host_is_taken_over_at_once(tmp_path):
    """Its LOCK records no lease, machine or start time: the host name and pid decide."""
    write_lock(tmp_path, socket.gethostname(), dead_pid(), time.time())
    lock, waited = acquire_timed(tmp_path, 3600)
    assert waited < 1 and lock.took_over.holder.lease is None
    lock.release()
    assert list(tmp_path.iterdir()) == []  # its claim folder is gone with ours


def test_a_reused_pid_is_not_its_holder(tmp_path):
    """The pid runs (this process), but not since the holder's start time."""
    write_lock(tmp_path, socket.gethostname(), os.getpid(), time.time(), lease=3600,
               machine=MACHINE, started=1)  # fmt: skip
    lock, waited = acquire_timed(tmp_path, 3600)
    assert waited < 1
    lock.release()


def test_a_container_sharing_the_host_name_is_not_this_machine(tmp_path):
    """Another PID namespace: its pid says nothing here, so its lease is watched."""
    write_lock(tmp_path, socket.gethostname(), dead_pid(), time.time(), lease=1,
               machine="another-boot/pid:[4026531836]")  # fmt: skip
    lock, waited = acquire_timed(tmp_path, 3600)
    assert waited >= 1
    lock.release()


def test_another_host_is_stale_after_its_own_lease_whatever_the_wall_clocks(tmp_path):
    """The holder's lease, not the reader's lock_timeout, and no wall-clock comparison:
    a heartbeat an hour old (or a day in the future) is watched for the holder's lease."""
    for heartbeat in (time.time() - 3600, time.time() + 86400):
        write_lock(tmp_path, "node-17", 4242, heartbeat, lease=2)
        lock, waited = acquire_timed(tmp_path, 1)
        assert 2 <= waited < 5
        assert lock.took_over.holder.host == "node-17"
        lock.release()


def test_a_lock_of_an_older_version_is_watched_for_the_readers_lease(tmp_path):
    write_lock(tmp_path, "node-17", 4242, time.time() - 3600)  # no lease, no staging folder
    lock, waited = acquire_timed(tmp_path, 1)
    assert 1 <= waited < 4 and lock.took_over.holder.lease is None
    lock.release()


def test_the_heartbeat_advances_in_place_and_a_takeover_is_noticed(tmp_path):
    lock = RunLock(tmp_path, lease=1)
    lock.acquire()
    first = sight(tmp_path / schema.LOCK_FILE)
    time.sleep(0.35)
    later = sight(tmp_path / schema.LOCK_FILE)
    assert later.holder.beat > first.holder.beat and later.inode == first.inode  # in place
    # Someone judged us stale: our staging folder is fenced and LOCK replaced.
    (tmp_path / f"{STAGE_PREFIX}{lock.me.token}").rename(tmp_path / "fenced")
    write_lock(tmp_path, "node-2", 7, time.time(), lease=60)
    time.sleep(0.3)
    with pytest.raises(LockLost, match="staging folder .* removed .*node-2:7"):
        lock.check()
    lock.release()
    assert read_holder(tmp_path / schema.LOCK_FILE).host == "node-2"  # not ours to remove


def test_a_failing_heartbeat_fails_closed(tmp_path, monkeypatch):
    """An exception in the heartbeat thread is not silent: the next check raises."""
    lock = RunLock(tmp_path, lease=1)
    lock.acquire()
    real = os.pwrite

    def broken(*args):
        if threading.current_thread().name == "run-lock":
            raise OSError(5, "Input/output error")
        return real(*args)

    monkeypatch.setattr(os, "pwrite", broken)
    time.sleep(0.3)
    with pytest.raises(LockLost, match="heartbeat failed .*Input/output error"):
        lock.check()
    lock.release()


def test_a_lease_unrenewed_for_most_of_its_length_fails_closed(tmp_path):
    lock = RunLock(tmp_path, lease=1)
    lock.acquire()
    lock._stop.set()  # the heartbeat thread stops as if starved
    time.sleep(0.8)
    with pytest.raises(LockLost, match="lease of 1 s went unrenewed"):
        lock.check()
    lock.release()


HOLDER = {"host": "h", "pid": 1, "token": TOKEN, "since": 1.0, "heartbeat": 1.0}


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{" * 100_000,
        json.dumps({**HOLDER, "pid": 10**30}),
        json.dumps({**HOLDER, "since": 1e308}),
        b'{"host": "h", "pid": 1, "token": "../../x", "since": NaN, "heartbeat": 1.0}',
        json.dumps({**HOLDER, "lease": float("inf")}),
    ],
)
def test_a_crafted_lock_is_unreadable_and_taken_over_after_the_readers_lease(tmp_path, content):
    (tmp_path / schema.LOCK_FILE).write_bytes(
        content if isinstance(content, bytes) else content.encode()
    )
    assert read_holder(tmp_path / schema.LOCK_FILE) is None
    lock, waited = acquire_timed(tmp_path, 1)
    assert 1 <= waited < 4 and lock.took_over.holder is None
    lock.release()


def test_a_fifo_named_lock_never_blocks(tmp_path):
    os.mkfifo(tmp_path / schema.LOCK_FILE)
    assert read_holder(tmp_path / schema.LOCK_FILE) is None
    lock, waited = acquire_timed(tmp_path, 1)
    assert waited < 4
    assert read_holder(tmp_path / schema.LOCK_FILE).token == lock.me.token
    lock.release()


@pytest.mark.parametrize("lease", [0.5, 1e-9, float("inf"), float("nan"), 1e6])
def test_a_lease_out_of_range_is_refused(tmp_path, lease):
    with pytest.raises(ValueError, match="lease must be in"):
        RunLock(tmp_path, lease=lease)


def test_a_run_directory_in_use_is_refused_with_the_holder(tiny_cfg):
    """A requeued job while the old one still runs must not write."""
    cfg = tiny_cfg(name="busy")
    Path(cfg.output_dir).mkdir()
    with (
        RunLock(cfg.output_dir, lease=1),
        pytest.raises(ConfigError, match=r"is in use by .*:\d+ since .*stop it \(on SIGTERM"),
    ):
        loop.run(cfg, cfg.output_dir)


def test_a_run_left_locked_by_a_killed_job_resumes_and_says_so(tiny_cfg, caplog):
    """A pre-empted job's LOCK stays behind; its requeued run takes it over after watching
    its lease, logs whose it was, finishes and releases it."""
    cfg = tiny_cfg(name="requeued")
    pid = dead_pid()
    write_lock(Path(cfg.output_dir), "node-3", pid, time.time() - 7200, lease=1)
    with caplog.at_level("WARNING", logger="deepal_bench"):
        state = loop.run(cfg, cfg.output_dir)
    assert len(state.summary) == cfg.trials
    assert (Path(cfg.output_dir) / schema.DONE_FILE).exists()
    assert f"took over the stale lock of node-3:{pid}" in caplog.text
    assert not (Path(cfg.output_dir) / schema.LOCK_FILE).exists()
    assert not list(Path(cfg.output_dir).glob(f"{STAGE_PREFIX}*"))


@pytest.mark.parametrize("value", ["inf", "1e-9", "0.5", "100000"])
def test_a_lock_timeout_out_of_range_is_one_paragraph_before_anything_is_written(
    tmp_path, monkeypatch, capsys, value
):
    """lock_timeout=inf killed the heartbeat at start (a traceback); 1e-9 was accepted."""
    out = tmp_path / "run"
    assert run_cli(monkeypatch, *TINY, f"lock_timeout={value}", f"output_dir={out}") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    allowed = r"it must be a (finite )?number >= 1 and <= 86400"
    assert re.search(rf"Invalid lock_timeout=\S+: {allowed}", err)
    assert not (out / schema.CONFIG_FILE).exists() and not (out / schema.LOCK_FILE).exists()
