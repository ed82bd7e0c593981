"""Per-trial, per-round test predictions (`store_predictions: true`), written atomically.

One int32 .npy file per (trial, round) under `predictions/`, plus the test labels once; a
round redone after a resume overwrites its file with the same content.
"""

import io
import re
from pathlib import Path

import numpy as np

from deepal_bench.results import schema
from deepal_bench.results.io import _atomic

_NAME = re.compile(r"trial(\d+)-round(\d+)\.npy")


def _write_npy(path: Path, array: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, array)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic(path, lambda handle: handle.write(buffer.getvalue()), "wb")


def write_test_labels(run_dir: Path, labels: np.ndarray) -> None:
    _write_npy(Path(run_dir) / schema.PREDICTIONS_DIR / schema.TEST_LABELS_FILE, labels)


def write_predictions(run_dir: Path, trial: int, round_: int, pred: np.ndarray) -> None:
    name = schema.PREDICTIONS_PATTERN.format(trial=trial, round=round_)
    _write_npy(Path(run_dir) / schema.PREDICTIONS_DIR / name, np.asarray(pred, dtype=np.int32))


def read_predictions(run_dir: Path) -> tuple[np.ndarray, dict[tuple[int, int], np.ndarray]] | None:
    """(test labels, {(trial, round): predictions}) of a run, or None if none were stored."""
    folder = Path(run_dir) / schema.PREDICTIONS_DIR
    labels_file = folder / schema.TEST_LABELS_FILE
    if not labels_file.is_file():
        return None
    predictions = {}
    for path in folder.glob("trial*-round*.npy"):
        match = _NAME.fullmatch(path.name)
        if match:
            predictions[(int(match[1]), int(match[2]))] = np.load(path)
    return np.load(labels_file), predictions
