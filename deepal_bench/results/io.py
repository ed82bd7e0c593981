"""Atomic writes: write to a temporary file in the same folder, fsync, then rename.

Files get the permissions a plain `open` would give (0666 minus the umask), so colleagues
can read a shared results folder; `mkstemp` alone would make them 0600. A write killed
before its rename leaves a `.<name>.<random>.tmp` file, which `remove_temp_files` deletes
(under the run's lock) on the next start.
"""

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pandas as pd
import torch

from deepal_bench.results import schema


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic(path: Path, write: Callable[[IO], None], mode: str) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=schema.TEMP_SUFFIX)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, mode) as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    _atomic(path, lambda h: h.write(text), "w")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    _atomic(path, lambda h: h.write(data), "wb")


def atomic_write_csv(path: Path, frame: pd.DataFrame) -> None:
    _atomic(path, lambda h: frame.to_csv(h, index=False), "w")


def atomic_torch_save(path: Path, obj: object) -> None:
    _atomic(path, lambda h: torch.save(obj, h), "wb")


def remove_temp_files(run_dir: Path) -> list[Path]:
    """Delete the temporary files of interrupted atomic writes in `run_dir` (and below)."""
    removed = []
    for tmp in Path(run_dir).rglob(f".*{schema.TEMP_SUFFIX}"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


DONE_PATTERN = re.compile(r"(\d+) trials complete\n?")


def write_done(run_dir: Path, trials: int) -> None:
    """The completion marker: written last, once the records agree with the state."""
    atomic_write_text(Path(run_dir) / schema.DONE_FILE, f"{trials} trials complete\n")


def read_done(run_dir: Path) -> int | None:
    """Trials the completion marker says are complete; None when absent, 0 when unreadable."""
    marker = Path(run_dir) / schema.DONE_FILE
    if not marker.exists():
        return None
    try:
        match = DONE_PATTERN.fullmatch(marker.read_text())
    except (OSError, UnicodeDecodeError):
        return 0
    return int(match[1]) if match else 0
