"""Per-trial, per-round test predictions (`store_predictions: true`), written atomically.

One int32 .npy file per (trial, round) under `predictions/`, plus the test labels once; a
round redone after a resume overwrites its file with the same content.
"""

import io
import re
from pathlib import Path

import numpy as np

from deepal_bench.results import schema
from deepal_bench.results.io import atomic_write_bytes

_NAME = re.compile(r"trial(\d+)-round(\d+)\.npy")


def _write_npy(path: Path, array: np.ndarray, stage: Path | None) -> None:
    buffer = io.BytesIO()
    np.save(buffer, array)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue(), stage)


def write_test_labels(run_dir: Path, labels: np.ndarray, stage: Path | None = None) -> None:
    """The test labels (through the lock holder's staging folder `stage`, see results.io)."""
    _write_npy(Path(run_dir) / schema.PREDICTIONS_DIR / schema.TEST_LABELS_FILE, labels, stage)


def write_predictions(
    run_dir: Path, trial: int, round_: int, pred: np.ndarray, stage: Path | None = None
) -> None:
    """One round's test predictions (through `stage`, as `write_test_labels`)."""
    name = schema.PREDICTIONS_PATTERN.format(trial=trial, round=round_)
    array = np.asarray(pred, dtype=np.int32)
    _write_npy(Path(run_dir) / schema.PREDICTIONS_DIR / name, array, stage)


def read_predictions(run_dir: Path) -> tuple[np.ndarray, dict[tuple[int, int], np.ndarray]] | None:
    """(test labels, {(trial, round): predictions}) of a run, or None if none were stored.

    Arrays are loaded without pickle; an object array, a non-integer dtype or a length
    other than the test set's is a ValueError."""
    folder = Path(run_dir) / schema.PREDICTIONS_DIR
    labels_file = folder / schema.TEST_LABELS_FILE
    if not labels_file.is_file():
        return None
    predictions = {}
    for path in folder.glob("trial*-round*.npy"):
        match = _NAME.fullmatch(path.name)
        if match:
            predictions[(int(match[1]), int(match[2]))] = _labels(np.load(path), path)
    labels = _labels(np.load(labels_file), labels_file)
    if any(p.shape != labels.shape for p in predictions.values()):
        raise ValueError(f"{folder} holds predictions of another length than the test labels")
    return labels, predictions


def _labels(array: np.ndarray, path: Path) -> np.ndarray:
    if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{path} is not a 1-d integer array")
    return array
