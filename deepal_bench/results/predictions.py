"""Per-trial, per-round test predictions (`store_predictions: true`), written atomically.

One int32 .npy file per (trial, round) under `predictions/`, plus the test labels once; a
round redone after a resume overwrites its file with the same content. Written below the
run directory without following a symbolic link (`results.io`); read through
`results.safe_read` (regular files, the header checked before anything is allocated, no
pickle).
"""

import io
import os
import re
from pathlib import Path

import numpy as np

from deepal_bench.results import schema
from deepal_bench.results.io import atomic_write_bytes
from deepal_bench.results.safe_read import DamagedFile, read_npy

_NAME = re.compile(r"trial(\d+)-round(\d+)\.npy")


def _write_npy(run_dir: Path, name: str, array: np.ndarray, stage: Path | None) -> None:
    buffer = io.BytesIO()
    np.save(buffer, array)
    path = Path(run_dir) / schema.PREDICTIONS_DIR / name
    atomic_write_bytes(path, buffer.getvalue(), stage, within=run_dir)


def write_test_labels(run_dir: Path, labels: np.ndarray, stage: Path | None = None) -> None:
    """The test labels (through the lock holder's staging folder `stage`, see results.io)."""
    _write_npy(run_dir, schema.TEST_LABELS_FILE, labels, stage)


def write_predictions(
    run_dir: Path, trial: int, round_: int, pred: np.ndarray, stage: Path | None = None
) -> None:
    """One round's test predictions (through `stage`, as `write_test_labels`)."""
    name = schema.PREDICTIONS_PATTERN.format(trial=trial, round=round_)
    _write_npy(run_dir, name, np.asarray(pred, dtype=np.int32), stage)


def read_predictions(run_dir: Path) -> tuple[np.ndarray, dict[tuple[int, int], np.ndarray]] | None:
    """(test labels, {(trial, round): predictions}) of a run, or None if none were stored.

    Arrays are read from their headers without pickle; an object array, a non-integer
    dtype, a length other than the test set's or a file that cannot be read safely (a
    symbolic link, a FIFO, an .npz under an .npy name) is a ValueError."""
    run_dir = Path(run_dir)
    folder = run_dir / schema.PREDICTIONS_DIR
    try:
        labels = _vector(folder / schema.TEST_LABELS_FILE, run_dir)
    except FileNotFoundError:
        return None
    predictions = {}
    for name in sorted(os.listdir(folder)):
        match = _NAME.fullmatch(name)
        if match:
            predictions[(int(match[1]), int(match[2]))] = _vector(folder / name, run_dir)
    if any(p.shape != labels.shape for p in predictions.values()):
        raise ValueError(f"{folder} holds predictions of another length than the test labels")
    return labels, predictions


def _vector(path: Path, run_dir: Path) -> np.ndarray:
    """A 1-d integer array read safely from `path` below `run_dir`."""
    array = read_npy(path, run_dir, kinds="iu")
    if array.ndim != 1:
        raise DamagedFile(f"{path.relative_to(run_dir)} is not a 1-d integer array")
    return array
