"""deepal-bench-status: the state of every run directory below a results folder, built on
disk by real runs, and the command that launches what a sweep still lacks."""

import hashlib
import itertools
import json
import pickle
import re
import shlex
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from support import run_cli

from deepal_bench.cli import status as status_cli
from deepal_bench.results import schema
from deepal_bench.results.lock import RunLock
from deepal_bench.results.provenance import read_provenance
from deepal_bench.run.loop import run
from deepal_bench.run.store import RunStore
from deepal_bench.sweeps import status
from deepal_bench.sweeps.expand import expand

TINY_SWEEP = ["budget.initial=10", "budget.batch=10", "budget.quota=10",
              "trainer.epochs=1", "progress=false"]  # fmt: skip


def status_out(capsys, *argv: object) -> list[str]:
    status_cli.main([str(a) for a in argv])
    return capsys.readouterr().out.splitlines()


def interrupted_run(cfg, monkeypatch) -> Path:
    """A real run stopped (Ctrl-C) right after its first round was saved."""
    save, calls = RunStore.save, []

    def save_once(self, state):
        if calls:
            raise KeyboardInterrupt
        calls.append(state)
        save(self, state)

    with monkeypatch.context() as m:
        m.setattr(RunStore, "save", save_once)
        with pytest.raises(KeyboardInterrupt):
            run(cfg, Path(cfg.output_dir))
    return Path(cfg.output_dir)


def write_lock(path: Path, host: str, pid: int, since: float, heartbeat: float, **more) -> None:
    lock = {"host": host, "pid": pid, "token": "0123456789abcdef", "since": since,
            "heartbeat": heartbeat, **more}  # fmt: skip
    (path / schema.LOCK_FILE).write_text(json.dumps(lock))


def local(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def tree(root: Path) -> dict[str, str]:
    """Every file below `root` and a hash of its bytes."""
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()
    }


def refuse_unpickling(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("deepal-bench-status unpickled a file")

    for module, name in ((torch, "load"), (pickle, "load"), (pickle, "loads")):
        monkeypatch.setattr(module, name, refuse)


def test_every_state_of_a_run_directory_one_line_each_then_totals(
    tmp_path, tiny_cfg, monkeypatch, capsys
):
    sweep = tmp_path / "sweep"
    cfg = tiny_cfg("trials=2", name="sweep/complete")
    complete = Path(cfg.output_dir)
    run(cfg, complete)
    interrupted = interrupted_run(tiny_cfg("trials=2", name="sweep/interrupted"), monkeypatch)
    copies = {name: sweep / name for name in ("running", "stale_host", "stale_dead")}
    for copy in copies.values():
        shutil.copytree(interrupted, copy)
    now = time.time()
    write_lock(copies["stale_host"], "node17", 41233, now - 7200, now - 3600, lease=1)
    pid = dead_pid()
    write_lock(copies["stale_dead"], socket.gethostname(), pid, now - 60, now)
    damaged = sweep / "damaged"
    shutil.copytree(complete, damaged)
    rounds = pd.read_csv(damaged / schema.ROUNDS_FILE)
    rounds.loc[1, "accuracy"] = 1.5
    rounds.to_csv(damaged / schema.ROUNDS_FILE, index=False)
    failed = sweep / "failed"
    (failed / ".hydra").mkdir(parents=True)
    (failed / ".hydra" / "config.yaml").write_text("seed: 0\n")
    error = ("budget.quota=100000 plus budget.initial=10 is larger than the training pool "
             "(124 points); lower budget.quota to at most 114.")  # fmt: skip
    (failed / schema.LOG_FILE).write_text(
        "[2026-11-30 17:02:11,001][deepal_bench.run.loop][INFO] - started: entropy on wine\n"
        f"[2026-11-30 17:02:12,002][deepal_bench][ERROR] - {error}\n"
    )
    (sweep / "empty" / ".hydra").mkdir(parents=True)
    before = tree(sweep)
    refuse_unpickling(monkeypatch)
    with RunLock(copies["running"], lease=1) as lock:
        out = status_out(capsys, sweep)
    code = f"  [{read_provenance(complete).describe()}]"  # each run with records ends with it
    silent = out.pop(6)
    assert re.fullmatch(
        rf"stale        {re.escape(str(copies['stale_host']))}: trial 1/2, round 0/2 done; "
        rf"lock of node17:41233 since {local(now - 7200)}, no heartbeat in 0\.\d s of "
        "watching; a relaunch resumes it once the lock has stood still for its lease of 1 s"
        + re.escape(code),
        silent,
    )
    assert out == [
        f"complete     {complete}: 2 trials{code}",
        f"damaged      {damaged}: rounds.csv column accuracy holds values outside [0, 1]{code}",
        f"failed       {failed}: {error}",
        f"stale        {interrupted}: interrupted at trial 1/2, round 0/2 done, resumes on "
        f"relaunch{code}",
        f"in progress  {copies['running']}: trial 1/2, round 0/2 done; held by "
        f"{socket.gethostname()}:{lock.me.pid} since {local(lock.me.since)}{code}",
        f"stale        {copies['stale_dead']}: trial 1/2, round 0/2 done; lock of "
        f"{socket.gethostname()}:{pid} since {local(now - 60)}, its process is gone; resumes "
        f"on relaunch{code}",
        "7 runs: 1 complete, 1 in progress, 3 stale, 1 damaged, 1 failed",
    ]
    assert tree(sweep) == before  # nothing written, nothing removed


def test_a_lock_is_judged_by_its_heartbeat_never_by_the_clocks(tmp_path, capsys):
    """A heartbeat written by a clock a day ahead is stale once it stands still; a live
    holder is in progress; a LOCK of an older version (no lease recorded) is watched for
    the lease given by --lock-timeout."""
    future, old, live = (tmp_path / name for name in ("future", "old", "live"))
    for path in (future, old, live):
        path.mkdir()
    now = time.time()
    write_lock(future, "node17", 41233, now, now + 86400, lease=1)
    write_lock(old, "node18", 41234, now, now)
    with RunLock(live, lease=1) as lock:
        out = status_out(capsys, tmp_path, "--lock-timeout", 1)
    assert re.fullmatch(
        rf"stale        {re.escape(str(future))}: no round recorded yet; lock of node17:41233 "
        rf"since {local(now)}, no heartbeat in 0\.\d s of watching; a relaunch resumes it "
        "once the lock has stood still for its lease of 1 s",
        out[0],
    )
    assert out[1] == (
        f"in progress  {live}: no round recorded yet; held by {socket.gethostname()}:"
        f"{lock.me.pid} since {local(lock.me.since)}"
    )
    assert out[2].startswith(f"stale        {old}: no round recorded yet; lock of node18:41234")


def test_a_run_that_failed_for_real_shows_its_error(tmp_path, monkeypatch, capsys):
    """It failed after its checks (a refused config leaves no run directory content): SGD
    with lr 1e38 diverges in round 0."""
    assert run_cli(monkeypatch, "dataset=wine", "trials=1", "budget.initial=10",
                   "budget.batch=10", "budget.quota=20", "trainer.optimizer=sgd",
                   "trainer.lr=1e38", "trainer.momentum=0", "trainer.epochs=3",
                   "progress=false", f"results_root={tmp_path}") == 2  # fmt: skip
    capsys.readouterr()
    (line, totals) = status_out(capsys, tmp_path)
    state, detail = line.split(": ", 1)
    assert state.startswith("failed ")
    assert detail.startswith("Training diverged in trial 0, round 0")
    assert totals == "1 run: 0 complete, 0 in progress, 0 stale, 0 damaged, 1 failed"


def test_a_later_launch_after_an_error_is_not_failed(tmp_path, capsys):
    path = tmp_path / "run"
    path.mkdir()
    (path / schema.LOG_FILE).write_text(
        "[t][deepal_bench][ERROR] - output_dir 'x' is in use by node17:1 since today\n"
        "[t][deepal_bench.run.loop][INFO] - resumed: entropy on wine at trial 0 round 0 of 5 "
        "trials, records in x\n"
        "Traceback (most recent call last):\n"
        "KeyboardInterrupt\n"
    )
    assert status_out(capsys, tmp_path)[0] == (
        f"stale        {path}: interrupted before its first round, resumes on relaunch"
    )


def expanded(grid: list[str]) -> set[tuple[str, ...]]:
    """The jobs of `deepal-bench -m *grid` for plain comma-separated values (naive)."""
    axes = [[f"{k}={v}" for v in vs.split(",")] for k, vs in (o.split("=") for o in grid)]
    return set(itertools.product(*axes))


def test_grids_launch_exactly_the_given_jobs_each_once():
    full = [list(job) for job in expanded(["a=1,2", "b=x,y", "c=p,q"])]
    full.sort()
    assert status.grids(full) == [["a=1,2", "b=x,y", "c=p,q"]]
    missing = [["a=1", "b=y"], ["a=2", "b=x"], ["a=2", "b=y"]]  # a 2x2 grid without (1, x)
    assert status.grids(missing) == [["a=1,2", "b=y"], ["a=2", "b=x"]]
    for size in range(1, len(full) + 1):
        for jobs in itertools.combinations(full, size):
            grids = status.grids(list(jobs))
            launched = [job for grid in grids for job in expanded(grid)]
            assert sorted(launched) == sorted(map(tuple, jobs))  # all of them, each once


def test_expect_prints_the_command_that_launches_exactly_the_missing_jobs(
    tmp_path, monkeypatch, capsys
):
    common = ["trials=1", *TINY_SWEEP, f"results_root={tmp_path}"]
    assert run_cli(monkeypatch, "-m", "strategy=random", "dataset=wine", *common) == 0
    sweep = ["strategy=random,entropy", "dataset=wine,iris", *common]
    capsys.readouterr()
    out = status_out(capsys, tmp_path, "--expect", "-m", *sweep)
    job_line = ["trials=1", "budget.initial=10", "budget.batch=10", "budget.quota=10",
                "trainer.epochs=1", "progress=False", f"results_root={tmp_path}"]  # fmt: skip
    assert out[-3:] == [
        "expected sweep: 4 jobs, 1 complete, 0 in progress, 3 to launch (3 not started):",
        shlex.join(["deepal-bench", "-m", "strategy=random,entropy", "dataset=iris", *job_line]),
        shlex.join(["deepal-bench", "-m", "strategy=entropy", "dataset=wine", *job_line]),
    ]
    run_dirs = {" ".join(sorted(job.overrides[:2])): job.run_dir for job in expand(sweep)}
    before = {str(p.parent) for p in tmp_path.rglob(schema.DONE_FILE)}
    assert before == {run_dirs["dataset=wine strategy=random"]}
    for line in out[-2:]:
        assert run_cli(monkeypatch, *shlex.split(line)[1:]) == 0
    after = {str(p.parent) for p in tmp_path.rglob(schema.DONE_FILE)}
    assert after - before == {
        run_dirs[key]
        for key in ("dataset=iris strategy=random", "dataset=iris strategy=entropy",
                    "dataset=wine strategy=entropy")
    }  # fmt: skip
    capsys.readouterr()
    out = status_out(capsys, tmp_path, "--expect", *sweep)
    assert out[-2:] == [
        "4 runs: 4 complete, 0 in progress, 0 stale, 0 damaged, 0 failed",
        "expected sweep: 4 jobs, 4 complete, 0 in progress, nothing to launch",
    ]


def test_more_trials_than_recorded_is_still_to_launch(tmp_path, monkeypatch, capsys):
    common = [*TINY_SWEEP, "strategy=entropy", "dataset=wine", f"results_root={tmp_path}"]
    assert run_cli(monkeypatch, "trials=1", *common) == 0
    capsys.readouterr()
    out = status_out(capsys, tmp_path, "--expect", "trials=2", *common)
    assert out[-2] == (
        "expected sweep: 1 job, 0 complete, 0 in progress, 1 to launch (1 fewer trials):"
    )
    assert "trials=2" in shlex.split(out[-1])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing"], "RESULTS_DIR 'missing' is not a folder"),
        ([".", "--expect", "strategy=nope"], "Could not find 'strategy/nope'"),
        ([".", "--expect", "strategy=random,"], "bad --expect overrides 'strategy=random,'"),
        ([".", "--expect", "foo=1"], "Could not override 'foo'"),
    ],
)
def test_a_missing_folder_or_bad_overrides_is_a_one_line_error(
    tmp_path, monkeypatch, capsys, argv, message
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        status_cli.main(argv)
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and out == ""
    assert err.startswith("deepal-bench-status: error: ") and message in err
    assert err.count("\n") == 1


def launch_stopped(cfg, monkeypatch, rounds: int) -> Path:
    """A real launch of `cfg` stopped (Ctrl-C) right after its `rounds`-th saved round."""
    save, saved = RunStore.save, []

    def save_then_stop(self, state):
        save(self, state)
        saved.append(state)
        if len(saved) == rounds:
            raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(RunStore, "save", save_then_stop)
        with pytest.raises(KeyboardInterrupt):
            run(cfg, Path(cfg.output_dir))
    return Path(cfg.output_dir)


def test_the_trials_asked_for_come_from_progress_json_not_the_log(
    tmp_path, tiny_cfg, monkeypatch, capsys
):
    """status learnt the trials a launch asked for by regex over log lines."""
    path = launch_stopped(tiny_cfg("trials=2", name="run"), monkeypatch, 1)
    launch_stopped(tiny_cfg("trials=3", name="run"), monkeypatch, 1)  # relaunched for 3
    (path / schema.LOG_FILE).write_text(
        "[t][deepal_bench.run.loop][INFO] - started: entropy on wine, 9 trials, records in x\n"
        "[t][deepal_bench.run.loop][INFO] - trial 1/7 round 0/2: n_labeled=10 accuracy=0.5\n"
    )
    refuse_unpickling(monkeypatch)
    line = status_out(capsys, tmp_path)[0]
    assert line.startswith(
        f"stale        {path}: interrupted at trial 1/3, round 1/2 done, resumes on relaunch  ["
    )


def test_a_run_recorded_before_progress_and_provenance_is_shown_from_its_records(
    tmp_path, tiny_cfg, monkeypatch, capsys
):
    path = launch_stopped(tiny_cfg("trials=2", name="run"), monkeypatch, 2)
    (path / schema.PROGRESS_FILE).unlink()
    (path / schema.PROVENANCE_FILE).unlink()
    assert status_out(capsys, tmp_path)[0] == (
        f"stale        {path}: interrupted at trial 1/2, round 1/2 done, resumes on "
        "relaunch  [code unknown]"
    )
    (path / schema.PROGRESS_FILE).write_text("{damaged")
    line = status_out(capsys, tmp_path)[0]
    assert line.startswith(f"damaged      {path}: progress.json cannot be read (")
    assert line.endswith("  [code unknown]")


def test_a_run_computed_by_two_code_versions_is_flagged(tmp_path, tiny_cfg, capsys):
    """After a kernel fix, old runs still counted as complete and pooled with new ones."""
    cfg = tiny_cfg(name="run")
    run(cfg, Path(cfg.output_dir))
    path = Path(cfg.output_dir)
    data = json.loads((path / schema.PROVENANCE_FILE).read_text())
    fixed = {"package": "0.1.1", "git_commit": "f" * 40, "git_dirty": False,
             "device": "NVIDIA H100 80GB HBM3", "trial": 0, "round": 2}  # fmt: skip
    fixed = {**data["sessions"][0], **fixed}
    data["sessions"].append(fixed)
    (path / schema.PROVENANCE_FILE).write_text(json.dumps(data))
    first = data["sessions"][0]
    old = first["package"] + "@" + (first["git_commit"][:7] if first["git_commit"] else "no git")
    old += "+dirty" if first["git_dirty"] else ""
    assert status_out(capsys, tmp_path)[0] == (
        f"complete     {path}: 1 trial  [MIXED code versions {old}, 0.1.1@fffffff on "
        f"{first['device']}, NVIDIA H100 80GB HBM3]"
    )
    (path / schema.PROVENANCE_FILE).write_text("[]")
    assert status_out(capsys, tmp_path)[0] == (
        f"complete     {path}: 1 trial  [code unknown: unreadable provenance.json "
        f"(not a format 1 provenance mapping)]"
    )
