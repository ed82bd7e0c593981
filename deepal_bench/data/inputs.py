"""Checks of what the loaders read, before anything runs: every split's rows match its
labels, labels are class indices, features are finite numbers, the training pool has at
least two classes, and images fit in memory. A failure is one ConfigError paragraph naming
the dataset, what is wrong and what is allowed, never a traceback in the middle of a run or
a run that records nonsense (a one-class pool scores AUBC 1.0; NaN features diverge).
"""

import math
import os
import sys
from pathlib import Path

import numpy as np
import torch

from deepal_bench.data.dataset import ALData
from deepal_bench.errors import ConfigError

MEMORY_SHARE = 0.5  # the images may take at most this share of the memory available
_FINITE_CHUNK = 1 << 22  # values per finiteness check (bounded temporary memory)
_SPLITS = ("train", "test", "val")


def available_memory() -> int:
    """Bytes this process may still allocate: /proc/meminfo's MemAvailable, lowered to what
    its cgroup (a SLURM job, a container) has left; sysconf where /proc is missing, and no
    limit where neither says."""
    found = [_meminfo_available(), _cgroup_left()]
    known = [b for b in found if b is not None]
    if known:
        return min(known)
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):  # not on this system: no limit is known
        return sys.maxsize


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _read_number(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _cgroup_left() -> int | None:
    """Limit minus usage of this process's memory cgroup (v2, else v1), None if unlimited."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        _, controllers, where = fields
        if controllers == "":
            folder = Path("/sys/fs/cgroup") / where.lstrip("/")
            files = ("memory.max", "memory.current")
        elif "memory" in controllers.split(","):
            folder = Path("/sys/fs/cgroup/memory") / where.lstrip("/")
            files = ("memory.limit_in_bytes", "memory.usage_in_bytes")
        else:
            continue
        limit, used = (_read_number(folder / name) for name in files)
        if limit is not None and used is not None and limit < 1 << 60:
            return max(0, limit - used)
    return None


def check_image_memory(key: str, size: int, count: int, channels: int) -> None:
    """`count` float32 images of `channels` x `size` x `size` fit in memory, else a
    ConfigError naming `key`, the size and the largest size that fits."""
    budget = MEMORY_SHARE * available_memory()
    need = 4 * count * channels * size * size
    if need <= budget:
        return
    largest = math.isqrt(int(budget // (4 * max(1, count * channels))))
    raise ConfigError(
        f"Invalid {key}={size}: {count} images of {channels}x{size}x{size} take "
        f"{need / 1e9:,.1f} GB as float32 tensors (the data is held in memory), more than "
        f"{MEMORY_SHARE:.0%} of the {budget / MEMORY_SHARE / 1e9:,.1f} GB available to this "
        f"process; {key} must be at most {largest} here."
    )


def check_array_memory(name: str, source: str, nbytes: int) -> None:
    """Arrays of `nbytes` in total (as their headers declare them) fit in memory."""
    budget = MEMORY_SHARE * available_memory()
    if nbytes > budget:
        raise ConfigError(
            f"dataset '{name}': the arrays of {source} take {nbytes / 1e9:,.1f} GB, more than "
            f"{MEMORY_SHARE:.0%} of the {budget / MEMORY_SHARE / 1e9:,.1f} GB available to "
            f"this process."
        )


def integer_labels(name: str, key: str, labels: np.ndarray) -> np.ndarray:
    """`labels` as int64 class indices; float labels only when every value is a whole
    number (a float label such as 0.5 is refused, never truncated)."""
    labels = np.asarray(labels)
    if labels.dtype.kind in "biu":
        return labels.astype(np.int64).reshape(-1)
    if labels.dtype.kind == "f":
        bad = labels[~np.isfinite(labels) | (labels != np.round(labels))]
        if bad.size == 0:
            return labels.astype(np.int64).reshape(-1)
        raise ConfigError(
            f"dataset '{name}': {key} holds labels that are not whole numbers (e.g. "
            f"{float(bad.flat[0])!r}); labels must be class indices 0, 1, ..., num_classes - 1."
        )
    raise ConfigError(
        f"dataset '{name}': {key} has dtype {labels.dtype}; labels must be integer class "
        f"indices 0, 1, ..., num_classes - 1."
    )


def check_loaded(data: ALData) -> None:
    """Every split has one label per row, labels in [0, num_classes), inputs of one shape
    across splits, finite features, and test groups that match the test rows."""
    name, shape = data.name, tuple(data.x_train.shape[1:])
    for split in _SPLITS:
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        if x is None and y is None:
            continue
        if x is None or y is None:
            raise ConfigError(f"dataset '{name}': x_{split} and y_{split} come in pairs.")
        if len(x) != len(y):
            raise ConfigError(
                f"dataset '{name}': x_{split} has {len(x)} rows but y_{split} has {len(y)} "
                f"labels; every row needs exactly one label."
            )
        if tuple(x.shape[1:]) != shape:
            raise ConfigError(
                f"dataset '{name}': one input of x_{split} has shape {tuple(x.shape[1:])} but "
                f"one of x_train has {shape}; every split must have the same input shape."
            )
        _check_labels(name, f"y_{split}", y, data.num_classes)
        _check_finite(name, f"x_{split}", x)
    groups = data.groups_test
    if groups is not None and len(groups) != len(data.y_test):
        raise ConfigError(
            f"dataset '{name}': groups_test has {len(groups)} entries but y_test has "
            f"{len(data.y_test)}; give one group per test row."
        )


def _check_labels(name: str, key: str, y: torch.Tensor, num_classes: int) -> None:
    if y.dtype.is_floating_point or y.dtype == torch.bool or y.dim() != 1:
        raise ConfigError(
            f"dataset '{name}': {key} must be a 1-D array of integer class indices "
            f"(got {y.dtype}, shape {tuple(y.shape)})."
        )
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ConfigError(
            f"dataset '{name}': {key} holds labels from {int(y.min())} to {int(y.max())}; "
            f"labels must be class indices 0, 1, ..., {num_classes - 1} (num_classes = "
            f"{num_classes})."
        )


def _check_finite(name: str, key: str, x: torch.Tensor) -> None:
    if not x.dtype.is_floating_point:
        return
    flat = x.reshape(-1)
    for start in range(0, len(flat), _FINITE_CHUNK):
        chunk = flat[start : start + _FINITE_CHUNK]
        if not bool(torch.isfinite(chunk).all()):
            bad = int((~torch.isfinite(flat)).sum())
            raise ConfigError(
                f"dataset '{name}': {key} holds {bad} NaN or infinite value(s); features "
                f"must be finite numbers (impute or drop the missing values first)."
            )


def check_classes(data: ALData) -> None:
    """The training pool holds at least two classes (with one, every prediction is right and
    every strategy records AUBC 1.0)."""
    present = torch.unique(data.y_train).tolist()
    if data.num_classes < 2 or len(present) < 2:
        shown = ", ".join(str(c) for c in present[:5]) or "none"
        raise ConfigError(
            f"dataset '{data.name}': its training pool holds {len(present)} class(es) "
            f"(label {shown}); active learning needs at least 2 classes."
        )
