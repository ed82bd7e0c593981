"""Atomic writes: write to a temporary file in the same folder, fsync, then rename."""

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pandas as pd
import torch


def _atomic(path: Path, write: Callable[[IO], None], mode: str) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
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


def atomic_write_csv(path: Path, frame: pd.DataFrame) -> None:
    _atomic(path, lambda h: frame.to_csv(h, index=False), "w")


def atomic_torch_save(path: Path, obj: object) -> None:
    _atomic(path, lambda h: torch.save(obj, h), "wb")
