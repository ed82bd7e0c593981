"""One owner per run directory: an exclusive lock file with host, pid and a heartbeat.

The lock is `LOCK` in the run directory, created with O_CREAT | O_EXCL (atomic on local
disks and on NFS v3+), holding JSON: host, pid, a random token, when it was taken and the
last heartbeat. The holder refreshes the heartbeat from a background thread. A second
process finds the file and is refused with the holder's name, unless the holder is stale:

- on the same host, its pid is no longer alive;
- on any host, its heartbeat is older than `timeout` seconds.

A stale lock is taken over: renamed aside (only one process can rename it), checked to be
the lock that was judged stale, and replaced. filelock's locks carry no holder identity or
heartbeat and cannot tell a stale lock on a network filesystem from a live one, hence this
small implementation.
"""

import contextlib
import json
import os
import secrets
import socket
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from deepal_bench.results import schema


class LockHeld(Exception):
    """Another live process owns the run directory."""


class LockLost(Exception):
    """The lock was taken over while this process held it (it was judged stale)."""


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    token: str
    since: float
    heartbeat: float

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        return f"{self.host}:{self.pid} since {since}"

    def is_stale(self, timeout: float, now: float | None = None) -> bool:
        """Dead pid on this host, or a heartbeat older than `timeout` seconds."""
        if self.host == socket.gethostname() and not _pid_alive(self.pid):
            return True
        return (now or time.time()) - self.heartbeat > timeout


UNREADABLE_GRACE = 10.0  # seconds a lock file may stay unreadable while its creator writes it


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return float("inf")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_holder(path: Path) -> Holder | None:
    """The holder recorded in a lock file, or None when absent or unreadable (a lock file
    cut short by a crash between create and write is unreadable and treated as stale)."""
    try:
        data = json.loads(Path(path).read_text())
        return Holder(str(data["host"]), int(data["pid"]), str(data["token"]),
                      float(data["since"]), float(data["heartbeat"]))  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None


class RunLock:
    """Exclusive ownership of `run_dir` (use as a context manager)."""

    def __init__(self, run_dir: Path, timeout: float = 300.0, interval: float | None = None):
        self.path = Path(run_dir) / schema.LOCK_FILE
        self.timeout = timeout
        self.interval = interval if interval is not None else max(timeout / 10, 1.0)
        now = time.time()
        self.me = Holder(socket.gethostname(), os.getpid(), secrets.token_hex(8), now, now)
        self.took_over: Holder | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lost = threading.Event()

    def acquire(self) -> None:
        """Take the lock, taking over a stale one; raises LockHeld naming a live holder."""
        for _ in range(3):
            if self._create():
                self._start_heartbeat()
                return
            holder = read_holder(self.path)
            if holder is not None and not holder.is_stale(self.timeout):
                raise LockHeld(holder.describe())
            if holder is None and _age(self.path) < UNREADABLE_GRACE:
                raise LockHeld("a process that is taking the lock right now")
            self._set_aside(holder)
        raise LockHeld("another process (the lock changed hands while it was taken over)")

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(asdict(self.me)))
            handle.flush()
            os.fsync(handle.fileno())
        return True

    def _set_aside(self, stale: Holder | None) -> None:
        """Move the stale lock out of the way; put it back if it was not the stale one."""
        aside = self.path.with_name(f".{schema.LOCK_FILE}.{self.me.token}.stale")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        moved = read_holder(aside)
        if stale is not None and (moved is None or moved.token != stale.token):
            with contextlib.suppress(FileExistsError):
                os.link(aside, self.path)
        else:
            self.took_over = stale
        aside.unlink(missing_ok=True)

    def _start_heartbeat(self) -> None:
        self._thread = threading.Thread(target=self._beat, daemon=True, name="run-lock")
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            holder = read_holder(self.path)
            if holder is None or holder.token != self.me.token:
                self._lost.set()
                return
            fresh = asdict(self.me) | {"heartbeat": time.time()}
            tmp = self.path.with_name(f".{schema.LOCK_FILE}.{self.me.token}.tmp")
            tmp.write_text(json.dumps(fresh))
            os.replace(tmp, self.path)

    def check(self) -> None:
        """Raise LockLost if another process took the lock over (called before writes)."""
        if self._lost.is_set():
            holder = read_holder(self.path)
            raise LockLost(holder.describe() if holder else "unknown")

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        holder = read_holder(self.path)
        if holder is not None and holder.token == self.me.token:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
