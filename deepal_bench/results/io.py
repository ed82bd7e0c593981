"""Atomic writes: write to a temporary file, fsync, then rename it into place.

The temporary file lies in `stage` when given (a run's writes: the lock holder's staging
folder, so that a holder fenced by a takeover cannot rename anything into place, see
`results.lock`), else in the target's folder. Files get the permissions a plain `open`
would give (0666 minus the umask), so colleagues can read a shared results folder;
`mkstemp` alone would make them 0600. A write killed before its rename leaves a
`.<name>.<random>.tmp` file, which the next holder deletes with its staging folder (or
`remove_temp_files`, for those next to the target).
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


def _atomic(path: Path, write: Callable[[IO], None], mode: str, stage: Path | None) -> None:
    path = Path(path)
    folder = path.parent if stage is None else stage
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=schema.TEMP_SUFFIX)
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


def atomic_write_text(path: Path, text: str, stage: Path | None = None) -> None:
    _atomic(path, lambda h: h.write(text), "w", stage)


def atomic_write_bytes(path: Path, data: bytes, stage: Path | None = None) -> None:
    _atomic(path, lambda h: h.write(data), "wb", stage)


def atomic_write_csv(path: Path, frame: pd.DataFrame, stage: Path | None = None) -> None:
    _atomic(path, lambda h: frame.to_csv(h, index=False), "w", stage)


def atomic_torch_save(path: Path, obj: object, stage: Path | None = None) -> None:
    _atomic(path, lambda h: torch.save(obj, h), "wb", stage)


def remove_through(path: Path, stage: Path) -> None:
    """Delete `path` by renaming it into `stage` first (fails once `stage` was fenced)."""
    aside = Path(stage) / f".{Path(path).name}.removed"
    os.rename(path, aside)
    aside.unlink()


def remove_temp_files(run_dir: Path) -> list[Path]:
    """Delete the temporary files of interrupted atomic writes in `run_dir` (and below)."""
    removed = []
    for tmp in Path(run_dir).rglob(f".*{schema.TEMP_SUFFIX}"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


DONE_PATTERN = re.compile(r"(\d+) trials complete\n?")


def write_done(run_dir: Path, trials: int, stage: Path | None = None) -> None:
    """The completion marker: written last, once the records agree with the state."""
    atomic_write_text(Path(run_dir) / schema.DONE_FILE, f"{trials} trials complete\n", stage)


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
