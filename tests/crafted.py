"""Crafted run directories: an intact run made hostile in one way each (docs/records.md,
"Trust model"), and `bounded`, which runs a read in a forked child under a time and an
address-space limit so that a read that hangs, exhausts memory or recurses fails the test
instead of the machine."""

import io
import json
import os
import resource
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from support import RANDOM, config, write_run

from deepal_bench.results import schema
from deepal_bench.results.predictions import write_predictions, write_test_labels
from deepal_bench.results.safe_read import DamagedFile

SECONDS = 5
MEMORY = 256 << 20  # bytes a read may add to the child's address space
TEST_SIZE = 30


def _address_space() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize")


def _child(read, out: int, seconds: int) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_address_space() + MEMORY, hard))
    signal.alarm(seconds)
    try:
        result = f"ok: {read()!r}"
    except DamagedFile as err:
        result = f"damaged: {err}"
    except FileNotFoundError as err:
        result = f"missing: {err.filename}"
    except BaseException as err:  # noqa: BLE001 - reported to the parent, which fails
        result = f"error: {type(err).__name__}: {err}"
    os.write(out, result.encode()[:8192])


def bounded(read, seconds: int = SECONDS) -> str:
    """What `read()` returned ("ok: ...") or raised ("damaged: <reason>"), run in a forked
    child limited to `seconds` and MEMORY more bytes; a breach fails the test."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            _child(read, w, seconds)
        finally:
            os._exit(0)
    os.close(w)
    ready, _, _ = select.select([r], [], [], seconds + 5)
    text = os.read(r, 8192).decode() if ready else ""
    os.close(r)
    if not ready:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert text and os.WIFEXITED(status), f"no answer within the limits (status {status})"
    assert not text.startswith("error:"), text
    return text


# --- an intact run ----------------------------------------------------------------------


def intact_run(path: Path, seed: int = 0) -> Path:
    """A complete one-trial run as the loop writes it: config, the three CSVs, DONE, stored
    predictions, provenance.json, progress.json and a job log."""
    write_run(path, config("random", seed=seed, trials=1), RANDOM[:1])
    labels = np.arange(TEST_SIZE) % 3
    write_test_labels(path, labels)
    for rnd in range(3):
        write_predictions(path, 0, rnd, labels)
    session = {"package": "0.1.0", "git_commit": None, "git_dirty": None, "python": "3.11",
               "torch": "2.4.0", "cuda": None, "cudnn": None, "device": "cpu", "host": "node17",
               "started": "2026-11-30T17:02:11Z", "trial": 0, "round": 0}  # fmt: skip
    (path / schema.PROVENANCE_FILE).write_text(json.dumps({"format": 1, "sessions": [session]}))
    progress = {"format": 1, "trials": 1, "trial": 0, "round": 2, "rounds": 2, "updated": None}
    (path / schema.PROGRESS_FILE).write_text(json.dumps(progress))
    (path / schema.LOG_FILE).write_text("[2026-11-30 17:02:11,000][deepal_bench][INFO] - done\n")
    return path


# --- crafted contents -------------------------------------------------------------------


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def npy_header(shape: tuple[int, ...], descr: str = "<i4") -> bytes:
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def _edit_config(path: Path, edit: Callable[[dict], None]) -> None:
    data = yaml.safe_load((path / schema.CONFIG_FILE).read_text())
    edit(data)
    (path / schema.CONFIG_FILE).write_text(yaml.safe_dump(data))


def _replace(path: Path, name: str) -> Path:
    target = path / name
    target.unlink()
    return target


def _lock(path: Path, **fields: object) -> None:
    lock = {"host": "node17", "pid": 41233, "token": "0123456789abcdef", "since": 1.7e9,
            "heartbeat": 1.7e9, "lease": 1, "beat": 3, **fields}  # fmt: skip
    (path / schema.LOCK_FILE).write_text(json.dumps(lock, allow_nan=True))


def _prediction(path: Path) -> Path:
    return path / schema.PREDICTIONS_DIR / schema.PREDICTIONS_PATTERN.format(trial=0, round=1)


def _npz_as_npy(path: Path) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, predictions=np.arange(TEST_SIZE))
    _prediction(path).write_bytes(buffer.getvalue())


def _sparse(target: Path, size: int = 10**10) -> None:
    with open(target, "wb") as handle:
        handle.truncate(size)  # 10 GB that take no disk


def _outside(path: Path) -> Path:
    """A readable file outside the run directory (a link to it must not be followed)."""
    secret = path.parent / f"{path.name}.secret"
    secret.write_text("token: 1\n")
    return secret


def _unfinished(path: Path) -> None:
    (path / schema.DONE_FILE).unlink()


@dataclass(frozen=True)
class Kind:
    """One crafted run: how to make it from an intact run, and what the report (`used`,
    `damaged`, `incomplete`) and deepal-bench-status (its state) must say of it."""

    craft: Callable[[Path], None]
    report: str = "damaged"
    status: str = "damaged"


def _link(name: str, to: Callable[[Path], Path] | str) -> Callable[[Path], None]:
    def craft(path: Path) -> None:
        target = _replace(path, name)
        target.symlink_to(to if isinstance(to, str) else to(path))

    return craft


def _fifo(name: str) -> Callable[[Path], None]:
    return lambda path: os.mkfifo(_replace(path, name))


def _text(name: str, text: str) -> Callable[[Path], None]:
    return lambda path: (path / name).write_text(text)


def _then_unfinished(craft: Callable[[Path], None]) -> Callable[[Path], None]:
    def both(path: Path) -> None:
        craft(path)
        _unfinished(path)

    return both


CONFIG, ROUNDS, DONE, LOG = (
    schema.CONFIG_FILE,
    schema.ROUNDS_FILE,
    schema.DONE_FILE,
    schema.LOG_FILE,
)
KINDS: dict[str, Kind] = {
    "config_alias_bomb": Kind(_text(CONFIG, alias_bomb())),
    "config_5000_deep": Kind(_text(CONFIG, "a: " + "[" * 5000 + "]" * 5000 + "\n")),
    "config_fifo": Kind(_fifo(CONFIG)),
    "config_link_out": Kind(_link(CONFIG, _outside)),
    "config_batch_0": Kind(lambda p: _edit_config(p, lambda c: c["budget"].update(batch=0))),
    "config_no_dataset": Kind(lambda p: _edit_config(p, lambda c: c.pop("dataset"))),
    "config_missing_value": Kind(
        lambda p: _edit_config(p, lambda c: c["strategy"].update(name="???"))
    ),
    "config_number_key": Kind(lambda p: _edit_config(p, lambda c: c["trainer"].update({1: 2}))),
    "config_quota_1e15": Kind(
        lambda p: _edit_config(p, lambda c: c["budget"].update(quota=10**15))
    ),
    "rounds_dev_zero": Kind(_link(ROUNDS, "/dev/zero")),
    "rounds_fifo": Kind(_fifo(ROUNDS)),
    "rounds_sparse_10gb": Kind(lambda p: _sparse(p / ROUNDS)),
    "rounds_folder": Kind(lambda p: _replace(p, ROUNDS).mkdir()),
    "done_dev_zero": Kind(_link(DONE, "/dev/zero")),
    "done_fifo": Kind(_fifo(DONE)),
    "done_1e12_trials": Kind(_text(DONE, "1000000000000 trials complete\n")),
    "npy_shape_1e13": Kind(lambda p: _prediction(p).write_bytes(npy_header((10**13,)) + bytes(64))),
    "npz_as_npy": Kind(_npz_as_npy),
    "npy_object": Kind(lambda p: _prediction(p).write_bytes(npy_header((2,), "|O") + b"\x80")),
    "predictions_link_out": Kind(
        lambda p: _replace_folder(p, schema.PREDICTIONS_DIR, p.parent / f"{p.name}.elsewhere")
    ),
    "log_dev_zero": Kind(_then_unfinished(_link(LOG, "/dev/zero")), "incomplete"),
    "log_fifo": Kind(_then_unfinished(_fifo(LOG)), "incomplete"),
    "progress_dev_zero": Kind(
        _then_unfinished(_link(schema.PROGRESS_FILE, "/dev/zero")), "incomplete"
    ),
    "provenance_fifo": Kind(_fifo(schema.PROVENANCE_FILE), "used", "complete"),
    "provenance_deep": Kind(
        _text(schema.PROVENANCE_FILE, "[" * 100000 + "]" * 100000), "used", "complete"
    ),
    "lock_fifo": Kind(lambda p: os.mkfifo(p / schema.LOCK_FILE), "used"),
    "lock_since_1e308": Kind(lambda p: _lock(p, since=1e308), "used", "stale"),
    "lock_since_nan": Kind(lambda p: _lock(p, since=float("nan")), "used", "stale"),
    "lock_huge_pid": Kind(lambda p: _lock(p, pid=10**30), "used", "stale"),
    "lock_nested": Kind(_text(schema.LOCK_FILE, "[" * 100000 + "]" * 100000), "used", "stale"),
    "lock_future": Kind(lambda p: _lock(p, heartbeat=time.time() + 10**6), "used", "stale"),
}


def _replace_folder(path: Path, name: str, elsewhere: Path) -> None:
    """`name` (a folder of the run) moved outside, a symbolic link to it left in its place."""
    os.rename(path / name, elsewhere)
    (path / name).symlink_to(elsewhere)


def crafted_run(path: Path, kind: str, seed: int = 0) -> Path:
    """An intact run at `path`, then made hostile as `kind`."""
    intact_run(path, seed)
    KINDS[kind].craft(path)
    return path
