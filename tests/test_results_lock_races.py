"""Races for one run directory between real processes (`racing`): a live run is never taken
over, whatever the other's lock_timeout or clock; exactly one of two processes breaking a
stale lock gets it, and the loser neither removes nor overwrites the winner's LOCK."""

import json
import os
import time
from pathlib import Path

import pytest
from racing import CRAFTED_TOKEN, LOST, REFUSED, Injected, cfg_yaml, rows, run_child, start
from racing import wait_until as wait
from support import assert_same_records

from deepal_bench.results import schema
from deepal_bench.run import loop

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The records of one uninterrupted run."""
    out = tmp_path_factory.mktemp("reference") / "run"
    cfg = cfg_yaml(out)
    process = start(run_child, cfg)
    process.join(120)
    assert process.exitcode == 0
    return out


def heartbeat_age(out: Path) -> float:
    try:
        return time.time() - json.loads((out / schema.LOCK_FILE).read_text())["heartbeat"]
    except (OSError, ValueError, KeyError):
        return 0.0


def finish(*processes, timeout: float = 120) -> list[int]:
    for process in processes:
        process.join(timeout)
    return [p.exitcode for p in processes]


def test_a_smaller_lock_timeout_does_not_take_over_a_live_run(tmp_path, reference):
    """A relaunch with lock_timeout=1 took over a run that held the lock for 60 s and was
    alive (its last heartbeat more than 1 s old); both then wrote."""
    out = tmp_path / "run"
    first = start(run_child, cfg_yaml(out, "lock_timeout=60"), Injected(slow_save=2.5))
    wait(lambda: rows(out / schema.ROUNDS_FILE) >= 1, what="the first round")
    wait(lambda: heartbeat_age(out) > 1.2, what="a heartbeat older than 1 s")
    second = start(run_child, cfg_yaml(out, "lock_timeout=1"))
    assert finish(second, first) == [REFUSED, 0]
    assert_same_records(out, reference)


def test_a_clock_running_ahead_does_not_take_over_a_live_run(tmp_path, reference):
    out = tmp_path / "run"
    first = start(run_child, cfg_yaml(out, "lock_timeout=5"), Injected(slow_save=1.0))
    wait(lambda: rows(out / schema.ROUNDS_FILE) >= 1, what="the first round")
    second = start(run_child, cfg_yaml(out, "lock_timeout=5"), Injected(clock_ahead=3600))
    assert finish(second, first) == [REFUSED, 0]
    assert_same_records(out, reference)


def test_a_heartbeat_paused_before_its_write_never_overwrites_the_new_owner(tmp_path, reference):
    """The heartbeat read LOCK, then replaced it: a holder paused between the two put its
    own LOCK back over the process that had taken over."""
    out = tmp_path / "run"
    flag = str(tmp_path / "pause")
    first = start(
        run_child,
        cfg_yaml(out, "lock_timeout=1"),
        Injected(slow_save=1.0, pause_heartbeat=(flag, 5)),
    )
    wait(lambda: rows(out / schema.ROUNDS_FILE) >= 1, what="the first round")
    Path(flag).touch()
    wait(lambda: Path(flag + ".paused").exists(), what="the heartbeat to pause")
    time.sleep(1.2)  # its heartbeat now stands still for longer than its lease
    second = start(run_child, cfg_yaml(out, "lock_timeout=1"))
    assert finish(second, first) == [0, LOST]
    assert not (out / schema.LOCK_FILE).exists()
    assert_same_records(out, reference)


def _unreadable_stale_lock(out: Path) -> None:
    out.mkdir(parents=True)
    (out / schema.LOCK_FILE).write_text("")  # cut short by a crash before its content
    os.utime(out / schema.LOCK_FILE, (time.time() - 3600,) * 2)


def _stale_lock_of_another_host(out: Path) -> None:
    out.mkdir(parents=True)
    then = time.time() - 3600
    holder = {"host": "node-9", "pid": 4242, "token": CRAFTED_TOKEN, "since": then,
              "heartbeat": then}  # fmt: skip
    (out / schema.LOCK_FILE).write_text(json.dumps(holder))


@pytest.mark.parametrize("stale", [_unreadable_stale_lock, _stale_lock_of_another_host])
def test_of_two_processes_breaking_a_stale_lock_exactly_one_gets_it(tmp_path, reference, stale):
    """An unreadable stale LOCK was renamed aside and deleted unchecked: with a pause
    before the rename both processes acquired. A loser that renamed the winner's LOCK aside
    and linked it back left LOCK absent meanwhile: the winner judged itself lost and the
    loser was refused, so nobody ran."""
    out = tmp_path / "run"
    stale(out)
    cfg = cfg_yaml(out, "lock_timeout=1")
    late = start(run_child, cfg, Injected(pause_break=1.5, pause_putback=1.2))
    prompt = start(run_child, cfg, Injected(slow_save=1.0))
    assert finish(late, prompt) == [REFUSED, 0]
    assert not (out / schema.LOCK_FILE).exists() and not list(out.glob(".lock-*"))
    assert_same_records(out, reference)


def test_a_lock_from_a_clock_running_a_day_ahead_is_taken_over_after_its_lease(tiny_cfg):
    """A LOCK whose heartbeat lies in the future blocked the run for ever, and the refusal
    advised waiting lock_timeout."""
    cfg = tiny_cfg("lock_timeout=1", name="future")
    out = Path(cfg.output_dir)
    out.mkdir()
    ahead = time.time() + 86400
    holder = {"host": "node-9", "pid": 4242, "token": CRAFTED_TOKEN, "since": ahead,
              "heartbeat": ahead}  # fmt: skip
    (out / schema.LOCK_FILE).write_text(json.dumps(holder))
    state = loop.run(cfg, out)
    assert len(state.summary) == 1 and (out / schema.DONE_FILE).exists()
