"""Real processes for the lock, fencing and signal tests, with pauses injected at named points.

Each run is forked from a server that imported the package once (multiprocessing's
forkserver), so a scenario costs only its runs. A child runs `loop.run` (or the CLI's
`main`) on bundled digits with a tiny budget; `Injected` names what is done to it: slower
commits, a clock running ahead, a SIGSTOP before a given write, a pause before it breaks a
stale lock or puts one back, a heartbeat thread that pauses or fails. The pauses wrap the
os calls that a lock implementation makes at those points, so the same scenario runs
against any version of the package.
"""

import errno
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf
from support import compose_config

FORK = multiprocessing.get_context("forkserver")
FORK.set_forkserver_preload(["deepal_bench.run.loop", "deepal_bench.cli.run"])
REFUSED, LOST = 2, 3  # exit statuses of `run_child`: another process holds the run; lost it
DIGITS = [
    "dataset=digits", "trials=1", "budget.initial=10", "budget.batch=10", "budget.quota=20",
    "trainer.epochs=2", "progress=false", "threads=1", "strategy=entropy",
]  # fmt: skip
CRAFTED_TOKEN = "0123456789abcdef"  # the token of the LOCK files the tests write


@dataclass(frozen=True)
class Injected:
    """What to do to a child run (all optional)."""

    slow_save: float = 0.0  # seconds of sleep before every save of the state
    clock_ahead: float = 0.0  # seconds time.time() runs ahead
    stop_at: tuple[str, int, str] | None = None  # (name, n, before|after): SIGSTOP at the
    # n-th rename of a file onto this name, before or after it
    pause_break: float = 0.0  # seconds of sleep before breaking a stale lock
    pause_putback: float = 0.0  # ... and before linking LOCK back into place after that
    pause_heartbeat: tuple[str, float] | None = None  # (flag file, seconds): once it exists
    fail_heartbeat: bool = False  # the heartbeat's writes fail with EIO
    pause_in_commit: tuple[str, float] | None = None  # (marker file, seconds): while saving
    # the state of round 1, touch the marker and sleep


def cfg_yaml(out: Path, *overrides: str) -> str:
    return OmegaConf.to_yaml(compose_config([*DIGITS, *overrides], out))


def start(target, *args) -> multiprocessing.Process:
    process = FORK.Process(target=target, args=args)
    process.start()
    return process


def wait_until(condition, timeout: float = 60.0, what: str = "a condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def stopped(pid: int) -> bool:
    """Whether the process is stopped (SIGSTOP)."""
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "T"


def rows(path: Path) -> int:
    """Data rows of a CSV (0 when absent)."""
    try:
        return max(len(path.read_text().splitlines()) - 1, 0)
    except FileNotFoundError:
        return 0


def _in_heartbeat() -> bool:
    return threading.current_thread().name == "run-lock"


def _claims_stale_lock(path: object) -> bool:
    """A rename or mkdir that breaks a stale lock: the LOCK itself moved aside (the old
    way), or the staging folder of a crafted or unreadable LOCK claimed."""
    name = os.path.basename(os.fspath(path))
    return name in ("LOCK", f".lock-{CRAFTED_TOKEN}") or name.startswith(".lock-unreadable")


def _wrap_os(injected: Injected) -> None:
    real = {name: getattr(os, name) for name in ("replace", "rename", "mkdir", "link", "pwrite")}
    state = {"seen": 0, "broke": False, "paused": False}

    def before_break(path: object) -> None:
        if injected.pause_break and not state["broke"] and _claims_stale_lock(path):
            state["broke"] = True
            time.sleep(injected.pause_break)

    def heartbeat_write() -> None:
        if _in_heartbeat() and injected.fail_heartbeat:
            raise OSError(errno.EIO, "Input/output error (injected)")
        flag = injected.pause_heartbeat
        if _in_heartbeat() and flag and not state["paused"] and Path(flag[0]).exists():
            state["paused"] = True
            Path(flag[0] + ".paused").touch()
            time.sleep(flag[1])

    def replace(src, dst, **kwargs):
        name, nth, when = injected.stop_at or ("", 0, "")
        stop = False
        if Path(src).name.startswith(".LOCK"):
            heartbeat_write()
        elif Path(dst).name == name:
            state["seen"] += 1
            stop = state["seen"] == nth
        if stop and when == "before":
            os.kill(os.getpid(), signal.SIGSTOP)
        result = real["replace"](src, dst, **kwargs)
        if stop and when == "after":
            os.kill(os.getpid(), signal.SIGSTOP)
        return result

    def rename(src, dst, **kwargs):
        before_break(src)
        return real["rename"](src, dst, **kwargs)

    def mkdir(path, *args, **kwargs):
        before_break(path)
        return real["mkdir"](path, *args, **kwargs)

    def link(src, dst, **kwargs):
        if state["broke"] and injected.pause_putback and Path(dst).name == "LOCK":
            time.sleep(injected.pause_putback)
        return real["link"](src, dst, **kwargs)

    def pwrite(fd, data, offset):
        heartbeat_write()
        return real["pwrite"](fd, data, offset)

    for name, fn in (("replace", replace), ("rename", rename), ("mkdir", mkdir),
                     ("link", link), ("pwrite", pwrite)):  # fmt: skip
        setattr(os, name, fn)


def _inject(injected: Injected) -> None:
    import torch

    from deepal_bench.run.store import RunStore

    torch.set_num_threads(1)
    if injected.slow_save:
        save = RunStore.save

        def slow_save(self, state):
            time.sleep(injected.slow_save)
            save(self, state)

        RunStore.save = slow_save
    if injected.pause_in_commit:
        _pause_in_commit(*injected.pause_in_commit)
    if injected.clock_ahead:
        real_time = time.time
        time.time = lambda: real_time() + injected.clock_ahead
    _wrap_os(injected)


def _pause_in_commit(marker: str, seconds: float) -> None:
    import torch

    save, calls = torch.save, []

    def slow_save(obj, f, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            Path(marker).touch()
            time.sleep(seconds)
        return save(obj, f, *args, **kwargs)

    torch.save = slow_save


def run_child(cfg: str, injected: Injected = Injected()) -> None:
    """`loop.run`; exit 0 when done, REFUSED when the run is held, LOST when its lock was
    taken over (any other failure: a traceback and exit 1)."""
    from deepal_bench.errors import ConfigError
    from deepal_bench.run import loop
    from deepal_bench.run.store import LockLost

    _inject(injected)
    config = OmegaConf.create(cfg)
    try:
        loop.run(config, Path(config.output_dir))
    except ConfigError:
        os._exit(REFUSED)
    except LockLost:
        os._exit(LOST)


def cli_child(argv: list[str], injected: Injected = Injected(), handlers: str = "") -> None:
    """`deepal-bench *argv` (the console script's `main`), after installing `handlers`:
    "launcher" stands in for submitit's, which requeues on SIGUSR2 (exit -1, i.e. 255)
    and ignores SIGTERM; each writes `<output_dir>.handled` saying whether LOCK was still
    there when it ran."""
    from deepal_bench.cli import run as cli

    _inject(injected)
    if handlers == "launcher":
        out = next(a.split("=", 1)[1] for a in argv if a.startswith("output_dir="))

        def launcher(signum, frame):
            held = (Path(out) / "LOCK").exists()
            Path(out + ".handled").write_text(f"{signal.Signals(signum).name} LOCK={held}")
            if signum == signal.SIGUSR2:
                sys.exit(-1)

        signal.signal(signal.SIGUSR2, launcher)
        signal.signal(signal.SIGTERM, launcher)
    sys.argv = ["deepal-bench", *argv]
    cli.main()
