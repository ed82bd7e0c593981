"""`deepal-bench-status RESULTS_DIR... [--expect OVERRIDES...]`: where a sweep stands.

One line per run directory below the given folders, then totals per state:

- `complete`: `DONE` readable and the records pass the report's checks (`results.checks`);
- `in progress`: a `LOCK` whose heartbeat advances while watched (its host:pid, the last
  recorded round);
- `stale`: a `LOCK` whose holder's process is gone from this machine, or whose heartbeat
  stood still while watched (`results.lock.LockWatch`: up to two heartbeat intervals of
  its holder, 20 s at most; wall clocks are never compared), or no lock and unfinished
  records (interrupted); either resumes on relaunch (after the holder's lease for a
  silent one);
- `damaged`: `DONE` present but the records fail the checks, or a file cannot be read;
- `failed`: no lock, no `DONE`, and the job log (Hydra's `deepal-bench.log`) ends with an
  ERROR line, which is shown.

Where a run stands (trial t of the T its launch asked for, round r of R) comes from its
`progress.json` (`run.progress`), for runs recorded before that file existed from the
records (the last row of rounds.csv, the trials and budget of config.yaml). A run with
records ends its line with the code version(s) and device(s) of its `provenance.json`
(`run.provenance`): `MIXED code versions ...` when more than one computed its rounds,
`code unknown` when it was recorded before provenance existed.

With `--expect OVERRIDES...` (the overrides the sweep was launched with) every job of that
sweep is expanded as Hydra's basic sweeper does (`deepal_bench.sweeps.expand`) and the jobs that are
neither complete nor in progress are printed as `deepal-bench -m ...` lines that launch only
them.

Reading a results folder runs nothing from it and writes nothing: every file is read as the
report reads it (`results.safe_read`: regular files below the run directory, no symbolic
link followed, bounded sizes, YAML without aliases, never blocking on a FIFO), the lock as
data (`results.lock.sight`), and `state.pt` is only looked for, never opened
(docs/records.md, "Trust model"). A file that cannot be read makes its run `damaged` with
the reason; the other runs are still shown.
"""

import csv
import io
import os
import re
import shlex
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from deepal_bench.results import schema
from deepal_bench.results.checks import expected_rounds
from deepal_bench.results.collect import Run, load_run, run_directories_under
from deepal_bench.results.io import read_config, read_done
from deepal_bench.results.lock import LockWatch
from deepal_bench.results.provenance import UNKNOWN_CODE, read_provenance
from deepal_bench.results.safe_read import (
    CSV_CAP,
    DamagedFile,
    read_tail,
    read_text,
    special_kind,
)
from deepal_bench.run.progress import Progress, UnreadableProgress, read_progress
from deepal_bench.sweeps.expand import Job

MARKERS = (schema.CONFIG_FILE, schema.STATE_FILE, schema.ROUNDS_FILE, schema.DONE_FILE,
           schema.LOCK_FILE, schema.LOG_FILE)  # fmt: skip
RECORDS = (schema.ROUNDS_FILE, schema.QUERIES_FILE, schema.SUMMARY_FILE)
COMPLETE, IN_PROGRESS, STALE, DAMAGED, FAILED = (
    "complete", "in progress", "stale", "damaged", "failed",
)  # fmt: skip
STATES = (COMPLETE, IN_PROGRESS, STALE, DAMAGED, FAILED)
DEFAULT_LOCK_TIMEOUT = 300.0  # conf/config.yaml `lock_timeout`: the lease of a LOCK without one
# Hydra's default job-log format: `[time][logger][LEVEL] - message`; other lines continue
# the record above them (tracebacks).
LOG_RECORD = re.compile(r"\[[^\]]*\]\[[^\]]*\]\[([A-Z]+)\] - (.*)")


class Unreadable(Exception):
    """A file of a run directory that cannot be parsed (the message says which and why)."""


@dataclass(frozen=True)
class RunStatus:
    """The state of one run directory, why, and its complete trials (complete runs)."""

    path: Path
    state: str
    detail: str
    trials: int = 0
    code: str | None = None

    def line(self) -> str:
        code = f"  [{self.code}]" if self.code else ""
        return f"{self.state:<11}  {self.path}: {self.detail}{code}"


@dataclass(frozen=True)
class LogTail:
    """What a run's job log says last: the ERROR message ending it."""

    error: str | None = None


def find_run_dirs(roots: list[Path]) -> list[Path]:
    """Every folder below `roots` (or a root itself) holding a record, a lock or a job log
    (`results.collect.run_directories_under` with MARKERS)."""
    return run_directories_under(roots, MARKERS)


def read_log(path: Path) -> LogTail:
    """The error that ends the job log (if its last record is an ERROR), from its last
    `safe_read.LOG_TAIL` bytes; an empty LogTail when there is no log."""
    try:
        text = read_tail(path / schema.LOG_FILE, within=path)
    except FileNotFoundError:
        return LogTail()
    except (OSError, DamagedFile) as err:
        raise Unreadable(f"{schema.LOG_FILE} cannot be read ({err})") from err
    records = [m for m in map(LOG_RECORD.fullmatch, text.splitlines()) if m]
    last = records[-1] if records else None
    return LogTail(error=last[2] if last and last[1] in ("ERROR", "CRITICAL") else None)


def config_of(path: Path) -> dict | None:
    """config.yaml as plain data (`results.io.read_config`), None when absent; Unreadable
    when it cannot be read."""
    try:
        return read_config(path)
    except (OSError, DamagedFile) as err:
        raise Unreadable(str(err)) from err


def last_round(path: Path) -> tuple[int, int] | None:
    """(trial, round) of the last row of rounds.csv, None when no round is recorded."""
    try:
        text = read_text(path / schema.ROUNDS_FILE, CSV_CAP, path)
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        return max(((int(r["trial"]), int(r["round"])) for r in rows), default=None)
    except FileNotFoundError:
        return None
    except (OSError, DamagedFile, csv.Error, KeyError, TypeError, ValueError) as err:
        reason = err if isinstance(err, DamagedFile) else type(err).__name__
        raise Unreadable(f"{schema.ROUNDS_FILE} cannot be read ({reason})") from err


def progress_from_records(path: Path) -> Progress | None:
    """Where a run recorded before progress.json stands: the last row of rounds.csv, the
    trials and budget of config.yaml (the first launch's); None before the first round."""
    last = last_round(path)
    if last is None:
        return None
    config = config_of(path) or {}
    trials = config.get("trials")
    try:
        rounds = expected_rounds(config["budget"]) - 1
    except (KeyError, TypeError, ValueError):
        rounds = None
    return Progress(trials if isinstance(trials, int) else None, *last, rounds)


def progress(path: Path) -> str | None:
    """`trial t/T, round r/R done` (the last recorded round, counted as the job log counts),
    None before the first round is recorded."""
    try:
        where = read_progress(path)
    except UnreadableProgress as err:
        raise Unreadable(str(err)) from err
    where = where or progress_from_records(path)
    return where.describe() if where is not None else None


def _progress_or_why(path: Path) -> str:
    try:
        return progress(path) or "no round recorded yet"
    except Unreadable as err:
        return f"progress unknown: {err}"


def code(path: Path) -> str | None:
    """The code version(s) and device(s) that computed a run's rounds (provenance.json);
    `code unknown` for a run with records but no provenance, None for one without records."""
    provenance = read_provenance(path)
    if provenance.known or provenance.problem:
        return provenance.describe()
    return UNKNOWN_CODE if (path / schema.ROUNDS_FILE).exists() else None


def _lock_timeout(path: Path, given: float | None) -> float:
    """The lease assumed for a LOCK that records none: `given`, else the run's own
    `lock_timeout` (its config.yaml), else the default."""
    if given is not None:
        return given
    try:
        value = (config_of(path) or {}).get("lock_timeout", DEFAULT_LOCK_TIMEOUT)
        return float(value)
    except (Unreadable, TypeError, ValueError):
        return DEFAULT_LOCK_TIMEOUT


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _locked(path: Path, lease: float, watch: LockWatch) -> RunStatus:
    """The state of a run directory holding a LOCK: in progress or stale."""
    looked = watch.liveness(path, lease)
    if looked is None or looked.state == "released":  # released while we looked
        return _state(path, lease, watch)
    where = _progress_or_why(path)
    holder, lease = looked.seen.holder, looked.seen.lease(lease)
    if looked.state == "live":
        what = f"held by {holder.describe()}" if holder else "a process is taking its lock"
        return RunStatus(path, IN_PROGRESS, f"{where}; {what}")
    if looked.state == "gone":
        return RunStatus(
            path, STALE, f"{where}; lock of {holder.describe()}, its process is gone; resumes "
            "on relaunch",
        )  # fmt: skip
    lock = f"lock of {holder.describe()}" if holder else "unreadable lock file"
    return RunStatus(
        path, STALE, f"{where}; {lock}, no heartbeat in {looked.watched:.1f} s of watching; a "
        f"relaunch resumes it once the lock has stood still for its lease of {lease:g} s",
    )  # fmt: skip


def _finished(path: Path) -> RunStatus:
    """The state of a run directory marked complete: complete or damaged."""
    loaded = load_run(path)
    if isinstance(loaded, Run):
        trials = len(loaded.summary)
        return RunStatus(path, COMPLETE, _count(trials, "trial"), trials)
    why = loaded.reason.removeprefix("damaged records (").removesuffix(")")
    return RunStatus(path, DAMAGED, why)


def _unfinished(path: Path, tail: LogTail) -> RunStatus:
    """The state of a run directory without lock or completion marker."""
    if tail.error is not None:
        return RunStatus(path, FAILED, tail.error)
    try:
        where = progress(path)
    except Unreadable as err:
        return RunStatus(path, DAMAGED, str(err))
    identified = any(os.path.lexists(path / n) for n in (schema.CONFIG_FILE, schema.STATE_FILE))
    if not identified and any(os.path.lexists(path / n) for n in RECORDS):
        return RunStatus(
            path, DAMAGED, f"records without {schema.CONFIG_FILE} or {schema.STATE_FILE}"
        )
    if where is None:
        return RunStatus(path, STALE, "interrupted before its first round, resumes on relaunch")
    return RunStatus(path, STALE, f"interrupted at {where}, resumes on relaunch")


def run_status(
    path: Path, lock_timeout: float | None = None, watch: LockWatch | None = None
) -> RunStatus:
    """The state of one run directory, with the code that computed its rounds
    (`lock_timeout`: the lease of a LOCK without one, None: the run's own setting; `watch`:
    a LockWatch started over many run directories)."""
    return replace(_state(path, lock_timeout, watch), code=code(path))


def _state(path: Path, lock_timeout: float | None, watch: LockWatch | None) -> RunStatus:
    """The state of one run directory and why (without its code)."""
    kind = special_kind(path / schema.LOCK_FILE)
    if kind is not None:  # the lock only ever writes a regular file
        return RunStatus(
            path, DAMAGED, f"{schema.LOCK_FILE} is {kind}, not a lock file: no process holds "
            "it; remove it",
        )  # fmt: skip
    if os.path.lexists(path / schema.LOCK_FILE):
        return _locked(path, _lock_timeout(path, lock_timeout), watch or LockWatch([path]))
    if read_done(path) is not None:
        return _finished(path)
    try:
        tail = read_log(path)
    except Unreadable as err:
        return RunStatus(path, DAMAGED, str(err))
    return _unfinished(path, tail)


def totals(statuses: list[RunStatus]) -> str:
    counts = Counter(s.state for s in statuses)
    return f"{_count(len(statuses), 'run')}: " + ", ".join(f"{counts[s]} {s}" for s in STATES)


# -- --expect: the jobs of a sweep that are still to run -----------------------------------


def _split(override: str) -> tuple[str, str | None]:
    key, sep, value = override.partition("=")
    return key, value if sep else None


def grids(jobs: list[list[str]]) -> list[list[str]]:
    """Override lists that launched with `deepal-bench -m` run exactly `jobs`, each once.

    Jobs of one sweep carry the same keys in the same order. Jobs equal on every key but
    one are merged into one comma-separated sweep of that key, repeatedly, so every grid
    is a cartesian product of jobs in `jobs` (not always the fewest grids)."""
    boxes = [tuple((k, (v,)) for k, v in map(_split, job)) for job in jobs]
    if len({tuple(k for k, _ in box) for box in boxes}) > 1:
        return [list(job) for job in jobs]
    changed = True
    while changed:
        changed = False
        for axis in range(len(boxes[0]) if boxes else 0):
            merged: dict[tuple, list] = {}
            for box in boxes:
                merged.setdefault(box[:axis] + box[axis + 1 :], []).extend(box[axis][1])
            if len(merged) < len(boxes):
                key = boxes[0][axis][0]
                boxes = [
                    rest[:axis] + ((key, tuple(dict.fromkeys(values))),) + rest[axis:]
                    for rest, values in merged.items()
                ]
                changed = True
    return [[k if vs == (None,) else f"{k}={','.join(vs)}" for k, vs in box] for box in boxes]


def launch_lines(jobs: list[list[str]]) -> list[str]:
    return [shlex.join(["deepal-bench", "-m", *grid]) for grid in grids(jobs)]


def _is_done(status: RunStatus | None, job: Job) -> bool:
    return status is not None and status.state == COMPLETE and status.trials >= job.config.trials


def expect_report(jobs: list[Job], lock_timeout: float | None) -> list[str]:
    """The sweep's totals and the `deepal-bench -m` lines that launch its missing jobs."""
    watch = LockWatch([Path(job.run_dir) for job in jobs])
    statuses = [
        run_status(Path(job.run_dir), lock_timeout, watch) if Path(job.run_dir).is_dir() else None
        for job in jobs
    ]
    done = sum(_is_done(s, j) for s, j in zip(statuses, jobs, strict=True))
    running = sum(s is not None and s.state == IN_PROGRESS for s in statuses)
    todo = [
        (s, j)
        for s, j in zip(statuses, jobs, strict=True)
        if not _is_done(s, j) and not (s is not None and s.state == IN_PROGRESS)
    ]
    kinds = Counter(
        "not started" if s is None else "fewer trials" if s.state == COMPLETE else s.state
        for s, _ in todo
    )
    head = f"expected sweep: {_count(len(jobs), 'job')}, {done} complete, {running} in progress, "
    if not todo:
        return [head + "nothing to launch"]
    why = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
    return [head + f"{len(todo)} to launch ({why}):", *launch_lines([j.overrides for _, j in todo])]
