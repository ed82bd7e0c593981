"""One writer per run directory: a lease its holder renews, and fencing of a holder that lost it.

`LOCK` in the run directory holds JSON: host, pid, token, since, heartbeat (wall clock, for
people only), `lease` (the holder's `lock_timeout`), `beat` (a counter), `machine` (boot id
and PID namespace) and `started` (the process's start time, which tells a reused pid apart).
The model (docs/records.md, "Ownership"):

- **Taking the lock.** A process prepares its LOCK inside its own staging folder
  `.lock-<token>/` and hard-links it to `LOCK` (atomic and exclusive, also on NFS), so a
  LOCK is never seen half-written.
- **The lease.** The holder rewrites its LOCK in place (its own inode, never the path) with
  the next `beat` every `min(lease / 10, 10)` s. Another process takes over only after
  watching the beat stand still for the holder's own lease, measured on its own monotonic
  clock: wall clocks are never compared. A holder on this machine (same host name, boot
  and PID namespace) whose process is gone is taken over at once.
- **Fencing.** Every record is committed by renaming a file out of the holder's staging
  folder (`results.io`). Taking over starts by renaming the old holder's folder away and
  deleting it: that rename is the claim (only one process can make it), and from then on
  the old holder can neither make a write visible nor release (which also renames through
  its folder). Only then is its LOCK, checked to be the one judged stale, replaced by the
  new one in one rename, so LOCK is never absent. Every new holder also fences any other
  staging folder left in the directory.
- **Failing closed.** The heartbeat thread records why it stopped (the folder was fenced,
  LOCK was replaced, any exception); `check()`, called before every commit, then raises
  LockLost, as it does when the lease went unrenewed for 3/4 of its length.

filelock and flufl.lock were evaluated: filelock's locks carry no holder and cannot be
judged stale on a network filesystem; flufl.lock judges expiry by comparing the holder's
wall clock (the lock file's mtime) with the reader's, and neither fences a holder that was
taken over (docs/records.md says more).
"""

import contextlib
import itertools
import json
import logging
import math
import os
import re
import secrets
import shutil
import socket
import stat
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from deepal_bench.results import schema
from deepal_bench.results.stopping import deferred

log = logging.getLogger(__name__)

LEASE_MIN, LEASE_MAX = 1.0, 86400.0  # seconds: the range of `lock_timeout`
MAX_BEAT_INTERVAL = 10.0  # seconds between two heartbeats at most
STAGE_PREFIX = ".lock-"  # staging folders `.lock-<token>/` (and their fenced remains)
LOCK_BYTES = 4096  # a LOCK is shorter; a longer file is not read as one
RENEWAL_MARGIN = 0.75  # a holder stops committing after this share of its lease unrenewed
ATTEMPTS = 10  # changes of hands one acquisition follows before giving up
_TOKEN = re.compile(r"[0-9A-Za-z_-]{1,64}")
_LATEST = 1e11  # seconds since the epoch (year 5138): later times are not a holder's


class LockHeld(Exception):
    """Another live process owns the run directory (the message names it)."""


class LockLost(Exception):
    """This process no longer owns the run directory (the message says why)."""


def beat_interval(lease: float) -> float:
    return min(lease / 10, MAX_BEAT_INTERVAL)


def poll_interval(lease: float) -> float:
    return min(lease / 20, 1.0)


def _machine() -> str | None:
    """Boot id and PID namespace: what tells apart two machines, or two containers, that
    share a host name. None without /proc (the host name alone then decides)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        return f"{boot}/{os.readlink('/proc/self/ns/pid')}"
    except OSError:
        return None


def _process(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks since boot) of a process, None without /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return fields[0], int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _pid_alive(pid: int, started: int | None) -> bool:
    """Whether `pid` is a running process of this machine, and the same one if its start
    time is known (a pid reused after a crash is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    process = _process(pid)
    if process is None:
        return True
    state, start = process
    return state not in "ZX" and (started is None or start == started)


MACHINE = _machine()


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    token: str
    since: float
    heartbeat: float
    lease: float | None = None  # None: a LOCK of an older version (no lease, no staging folder)
    beat: int = 0
    machine: str | None = None
    started: int | None = None

    def describe(self) -> str:
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        return f"{self.host}:{self.pid} since {since}"

    def on_this_machine(self) -> bool:
        """Same host name, and same boot and PID namespace where the LOCK records them."""
        if self.host != socket.gethostname():
            return False
        return self.machine is None or self.machine == MACHINE

    def is_gone(self) -> bool:
        """On this machine, and its process no longer runs: stale without waiting."""
        return self.on_this_machine() and not _pid_alive(self.pid, self.started)


def _number(value: object, low: float, high: float) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low <= value <= high
    )


def _holder(data: object) -> Holder | None:
    """The holder described by a LOCK's JSON, None when any field is missing or implausible."""
    if not isinstance(data, dict):
        return None
    optional = {"lease": None, "beat": 0, "machine": None, "started": None}
    fields = optional | data
    checks = (
        isinstance(fields.get("host"), str) and 0 < len(fields["host"]) <= 255,
        isinstance(fields.get("pid"), int) and _number(fields["pid"], 1, 2**22),
        isinstance(fields.get("token"), str) and _TOKEN.fullmatch(fields["token"]) is not None,
        _number(fields.get("since"), 0, _LATEST) and _number(fields.get("heartbeat"), 0, _LATEST),
        fields["lease"] is None or _number(fields["lease"], LEASE_MIN, LEASE_MAX),
        isinstance(fields["beat"], int) and _number(fields["beat"], 0, 2**62),
        fields["machine"] is None or (isinstance(fields["machine"], str)
                                      and len(fields["machine"]) <= 200),
        fields["started"] is None or (isinstance(fields["started"], int)
                                      and _number(fields["started"], 0, 2**62)),
    )  # fmt: skip
    if not all(checks):
        return None
    return Holder(**{name: fields[name] for name in Holder.__dataclass_fields__})


@dataclass(frozen=True)
class Sighting:
    """What LOCK held when read: its holder (None: unreadable), its inode and its bytes."""

    holder: Holder | None
    inode: tuple[int, int]
    content: bytes

    @property
    def owner(self) -> tuple:
        """Who owns it: the holder's token (an older version rewrites LOCK as a new file at
        every heartbeat), or the file itself when it cannot be read."""
        return ("token", self.holder.token) if self.holder else ("file", *self.inode)

    @property
    def stage_name(self) -> str:
        """Its holder's staging folder (for an unreadable LOCK, a name of its own)."""
        return STAGE_PREFIX + (self.holder.token if self.holder else f"unreadable-{self.inode[1]}")

    def lease(self, default: float) -> float:
        """The lease its holder declared, `default` when it declared none."""
        return self.holder.lease if self.holder and self.holder.lease else default

    def describe(self) -> str:
        return self.holder.describe() if self.holder else "an unreadable lock file"


def sight(path: Path) -> Sighting | None:
    """What the lock file `path` holds, None when there is none. Never blocks (a FIFO or a
    device is not opened), never follows a symbolic link, reads at most LOCK_BYTES + 1."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError:  # a symbolic link, or unreadable
        return Sighting(None, (info.st_dev, info.st_ino), b"")
    try:
        info = os.fstat(fd)
        data = os.read(fd, LOCK_BYTES + 1) if stat.S_ISREG(info.st_mode) else b""
    finally:
        os.close(fd)
    try:
        holder = _holder(json.loads(data)) if 0 < len(data) <= LOCK_BYTES else None
    except (ValueError, RecursionError):
        holder = None
    return Sighting(holder, (info.st_dev, info.st_ino), data)


def read_holder(path: Path) -> Holder | None:
    """The holder recorded in a lock file, None when absent or unreadable."""
    seen = sight(path)
    return seen.holder if seen else None


def remove_tree(path: Path) -> None:
    """Delete a folder and what is in it, retrying while a fenced writer still adds files
    (NFS: a client holding a cached handle of the folder); missing is fine."""
    for _ in range(5):
        try:
            if path.is_symlink() or not path.is_dir():
                path.unlink()
            else:
                shutil.rmtree(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)
    log.warning("could not remove %s (an NFS rename file kept open?); remove it later", path)


class RunLock:
    """Exclusive ownership of `run_dir` under a renewed lease (use as a context manager)."""

    def __init__(self, run_dir: Path, lease: float = 300.0):
        if not LEASE_MIN <= lease <= LEASE_MAX:
            raise ValueError(f"lease must be in [{LEASE_MIN:g}, {LEASE_MAX:g}] s, not {lease}")
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / schema.LOCK_FILE
        self.lease = lease
        self.interval = beat_interval(lease)
        self.took_over: Sighting | None = None
        self._fd: int | None = None
        self._held = False
        self._renewed = 0.0
        self._failure: str | None = None
        self._contested: set[tuple] = set()
        self._names = itertools.count()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._prepare()

    @property
    def stage(self) -> Path:
        """This process's staging folder: every commit renames a file out of it."""
        return self.run_dir / (STAGE_PREFIX + self.me.token)

    # -- taking the lock -----------------------------------------------------------------

    def _prepare(self) -> None:
        """A fresh token and its LOCK content; the folder is made by `acquire`."""
        now = time.time()
        process = _process(os.getpid())
        self.me = Holder(socket.gethostname(), os.getpid(), secrets.token_hex(8), now, now,
                         self.lease, 0, MACHINE, process[1] if process else None)  # fmt: skip
        self._size = len(json.dumps(asdict(self.me))) + 64

    def _content(self) -> bytes:
        text = json.dumps(asdict(replace(self.me, heartbeat=time.time())))
        if len(text) > self._size:
            raise ValueError("the lock content outgrew its fixed size")
        return text.ljust(self._size).encode()

    def _stage_lock(self) -> Path:
        """Make the staging folder and the LOCK to be linked into place (its fd kept)."""
        self._close()
        os.mkdir(self.stage)
        mine = self.stage / f"{schema.LOCK_FILE}.next"  # a name no reader looks for
        self._fd = os.open(mine, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        os.write(self._fd, self._content())
        os.fsync(self._fd)
        return mine

    def acquire(self) -> None:
        """Take the lock: at once when free, after watching a holder's lease stand still
        when not; raises LockHeld naming a live holder."""
        try:
            self._take()
            with deferred():
                self._settle()
        except BaseException:
            self.release()
            raise
        self._start_heartbeat()

    def _take(self) -> None:
        mine = self._stage_lock()
        for _ in range(ATTEMPTS):
            if not mine.exists():  # another holder fenced this folder while we watched it
                self._prepare()
                mine = self._stage_lock()
            if self._link(mine):
                return
            seen = sight(self.path)
            if seen is None:
                continue
            stale = self._judge(seen)
            if stale is not None and self._take_over(stale, mine):
                return
        raise LockHeld("another process: the lock kept changing hands while this one tried")

    def _link(self, mine: Path) -> bool:
        """Hard-link the prepared LOCK into place; False when a LOCK exists."""
        with deferred():
            self._renewed = time.monotonic()
            try:
                os.link(mine, self.path)
            except FileExistsError:
                if os.fstat(self._fd).st_nlink != 2:  # 2: the link was made, its reply lost
                    return False
            except FileNotFoundError:
                return False
            self._held = True
            mine.unlink()
            return True

    def _judge(self, seen: Sighting) -> Sighting | None:
        """`seen` when its holder is stale; None when LOCK changed hands or disappeared;
        LockHeld when its heartbeat advances while watched."""
        holder, lease = seen.holder, seen.lease(self.lease)
        if holder is not None and holder.is_gone() and seen.owner not in self._contested:
            return seen
        log.info(
            "%s is locked by %s; taking it over if its heartbeat stands still for its lease of "
            "%g s", self.run_dir, seen.describe(), lease,
        )  # fmt: skip
        deadline = time.monotonic() + lease
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(poll_interval(lease), left))
            now = sight(self.path)
            if now is None or now.owner != seen.owner:
                return None
            if now.content != seen.content:
                raise LockHeld(
                    f"{now.describe()}, whose heartbeat advanced while this process watched "
                    f"it (it renews a lease of {lease:g} s)"
                )
        return seen

    def _take_over(self, stale: Sighting, mine: Path) -> bool:
        """Fence the stale holder and put our LOCK in its place; False when another
        process got there first (then our next judgement watches a whole lease)."""
        stage = self.run_dir / stale.stage_name
        with deferred():
            if not self._claim(stage, stale):
                self._contested.add(stale.owner)
                return False
            now = sight(self.path)
            if now is None or now.owner != stale.owner:
                with contextlib.suppress(OSError):
                    os.rmdir(stage)  # a folder we made to claim it (else already gone)
                return False
            self._renewed = time.monotonic()
            try:
                os.replace(mine, self.path)
            except FileNotFoundError:  # our folder was fenced meanwhile: someone else holds it
                return False
            self._held = True
            self.took_over = stale
            return True

    def _claim(self, stage: Path, stale: Sighting) -> bool:
        """Rename the stale holder's staging folder away (only one process can) and delete
        it. A LOCK without one (an older version's, an unreadable one, or one whose taker
        died half-way, once contested) is claimed by making that folder."""
        fenced = self._aside()
        try:
            os.rename(stage, fenced)
        except FileNotFoundError:
            modern = stale.holder is not None and stale.holder.lease is not None
            if modern and stale.owner not in self._contested:
                return False  # its folder always exists: someone is taking it over right now
            try:
                os.mkdir(stage)
            except FileExistsError:
                return False
            return True
        remove_tree(fenced)
        return True

    def _aside(self) -> Path:
        return self.run_dir / f"{STAGE_PREFIX}{self.me.token}.{next(self._names)}.fenced"

    def _settle(self) -> None:
        """Fence every other staging folder, then check that LOCK and our folder are ours."""
        for entry in self.run_dir.iterdir():
            if entry.name.startswith(STAGE_PREFIX) and entry != self.stage:
                fenced = self._aside()
                with contextlib.suppress(FileNotFoundError):
                    os.rename(entry, fenced)
                    remove_tree(fenced)
        now = sight(self.path)
        if not self.stage.is_dir() or now is None or now.inode != self._inode():
            self._held = False  # LOCK is another's, or about to be: not ours to remove
            raise LockHeld("another process that took the lock at the same moment")

    def _inode(self) -> tuple[int, int]:
        info = os.fstat(self._fd)
        return info.st_dev, info.st_ino

    # -- holding it ----------------------------------------------------------------------

    def _start_heartbeat(self) -> None:
        self._thread = threading.Thread(target=self._beat, daemon=True, name="run-lock")
        self._thread.start()

    def _beat(self) -> None:
        """Renew the lease until released; on any failure record why and stop."""
        while not self._stop.wait(self.interval):
            try:
                self._renew()
            except BaseException as err:  # noqa: BLE001 - the holder must learn of any failure
                self._failure = str(err) if isinstance(err, LockLost) else (
                    f"its heartbeat failed ({type(err).__name__}: {err})"
                )  # fmt: skip
                return

    def _renew(self) -> None:
        started = time.monotonic()
        if not self.stage.is_dir():
            raise LockLost(f"its staging folder {self.stage.name} was removed by a process "
                           f"that took the lock over ({self._describe_current()})")  # fmt: skip
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            raise LockLost(f"{schema.LOCK_FILE} was removed") from None
        if (info.st_dev, info.st_ino) != self._inode():
            raise LockLost(f"{schema.LOCK_FILE} now belongs to {self._describe_current()}")
        self.me = replace(self.me, beat=self.me.beat + 1)
        os.pwrite(self._fd, self._content(), 0)
        os.fsync(self._fd)
        self._renewed = started

    def _describe_current(self) -> str:
        seen = sight(self.path)
        return seen.describe() if seen else "nobody"

    def check(self) -> None:
        """Raise LockLost unless the lease is ours and renewed (called before every commit)."""
        if self._failure is not None:
            raise LockLost(self._failure)
        silent = time.monotonic() - self._renewed
        if silent > RENEWAL_MARGIN * self.lease:
            raise LockLost(
                f"its lease of {self.lease:g} s went unrenewed for {silent:.1f} s (was the "
                f"process stopped?), so another process may be taking it over"
            )

    # -- giving it up --------------------------------------------------------------------

    def release(self) -> None:
        """Stop the heartbeat and remove LOCK if it is still ours (renamed into our staging
        folder: a rename that fails once another process has fenced us)."""
        with deferred():
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
                self._thread = None
            if self._held:
                self._held = False
                with contextlib.suppress(OSError):
                    os.rename(self.path, self.stage / "released")
            remove_tree(self.stage)
            self._close()

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


WATCH_LIMIT = 20.0  # seconds `LockWatch` watches a silent LOCK at most


@dataclass(frozen=True)
class Liveness:
    """What watching a LOCK showed: `live` (its content changed, or it changed hands),
    `gone` (its holder's process is gone from this machine), `silent` (unchanged for
    `watched` seconds) or `released` (removed meanwhile)."""

    seen: Sighting
    state: str
    watched: float = 0.0


class LockWatch:
    """Watches the LOCK files of many run directories at once (`deepal-bench-status`): each
    is read when the watch starts and judged on its first `liveness` call, which waits at
    most two of its holder's heartbeat intervals (and WATCH_LIMIT) from that start, so N
    silent locks cost one wait, not N. Only what changes counts, never a clock in LOCK."""

    def __init__(self, run_dirs: list[Path], limit: float = WATCH_LIMIT) -> None:
        self.limit = limit
        self._first = {Path(d): (time.monotonic(), sight(Path(d) / schema.LOCK_FILE))
                       for d in run_dirs}  # fmt: skip

    def liveness(self, run_dir: Path, default_lease: float) -> Liveness | None:
        """How the LOCK of `run_dir` behaves (None when it has none); `default_lease` for a
        LOCK that records no lease (an older version's, or an unreadable one)."""
        run_dir = Path(run_dir)
        start, seen = self._first.get(run_dir) or (time.monotonic(), None)
        seen = seen or sight(run_dir / schema.LOCK_FILE)
        if seen is None:
            return None
        if seen.holder is not None and seen.holder.is_gone():
            return Liveness(seen, "gone")
        lease = seen.lease(default_lease)
        window = min(2 * beat_interval(lease) + poll_interval(lease), self.limit)
        while True:
            now = sight(run_dir / schema.LOCK_FILE)
            if now is None:
                return Liveness(seen, "released")
            if now.owner != seen.owner or now.content != seen.content:
                return Liveness(now, "live")
            waited = time.monotonic() - start
            if waited >= window:
                return Liveness(seen, "silent", waited)
            time.sleep(min(poll_interval(lease), window - waited))
