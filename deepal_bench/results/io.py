"""Atomic writes that nothing planted in a folder can redirect, and the bounded readers of
the small files every reader of a run needs (`DONE`, `config.yaml`).

A write creates a temporary file, fsyncs it and renames it into place. The temporary file
lies in `stage` when given (a run's writes: the lock holder's staging folder, so that a
holder fenced by a takeover cannot rename anything into place, see `results.lock`), else
in the target's folder. Folders are opened as descriptors and the file is created and
renamed relative to them (`openat`, `renameat`), so no symbolic link is followed on the
way: below `within` (the run directory, the report's output folder) every folder is opened
with O_NOFOLLOW (and made when missing); without it, the target's own folder is. A
symbolic link planted at the target's name is replaced, never written through; one planted
in place of a folder is an `UnsafePath` naming it. Files get the permissions a plain
`open` would give (0666 minus the umask), so colleagues can read a shared results folder.
A write killed before its rename leaves a `.<name>.<random>.tmp` file, which the next
holder deletes with its staging folder (or `remove_temp_files`, for those next to the
target).
"""

import contextlib
import errno
import logging
import os
import re
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pandas as pd
import torch

from deepal_bench.results import schema
from deepal_bench.results.safe_read import (
    MARKER_CAP,
    YAML_CAP,
    DamagedFile,
    read_text,
    read_yaml,
)

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafePath(OSError):
    """A symbolic link (or a file) where a write needs a folder of its own."""


def _unsafe(err: OSError, shown: str) -> OSError:
    if err.errno in (errno.ELOOP, errno.ENOTDIR):
        return UnsafePath(
            err.errno, f"{shown} is a symbolic link or no folder; nothing is written through it",
            shown,
        )  # fmt: skip
    return err


def _into(fd: int, name: str, shown: str) -> int:
    """The folder `name` of the folder `fd` (made when missing), opened without following
    a symbolic link."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o777, dir_fd=fd)
    try:
        return os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
    except OSError as err:
        raise _unsafe(err, shown) from None


def open_folder(path: Path, within: Path | None = None) -> int:
    """A descriptor of the folder `path`, reached without following a symbolic link: below
    `within` (itself opened as given) every folder, made when missing; without `within`
    the last component of `path`, which must exist."""
    if within is None:
        try:
            return os.open(path, _DIR_FLAGS | os.O_NOFOLLOW)
        except OSError as err:
            raise _unsafe(err, str(path)) from None
    parts = Path(os.path.abspath(path)).relative_to(os.path.abspath(within)).parts
    fd = os.open(within, _DIR_FLAGS)
    try:
        for i, part in enumerate(parts):
            inner = _into(fd, part, str(Path(within, *parts[: i + 1])))
            os.close(fd)
            fd = inner
    except BaseException:
        os.close(fd)
        raise
    return fd


def _atomic(
    path: Path, write: Callable[[IO], None], mode: str, stage: Path | None, within: Path | None
) -> None:
    path = Path(path)
    folder = open_folder(path.parent, within)
    tmp_dir = folder if stage is None else open_folder(stage)
    tmp = f".{path.name}.{secrets.token_hex(6)}{schema.TEMP_SUFFIX}"
    try:
        fd = os.open(tmp, _NEW_FILE, 0o666, dir_fd=tmp_dir)  # mode 0666 minus the umask
        try:
            with os.fdopen(fd, mode) as handle:
                write(handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path.name, src_dir_fd=tmp_dir, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp, dir_fd=tmp_dir)
            raise
    finally:
        os.close(folder)
        if tmp_dir != folder:
            os.close(tmp_dir)


def atomic_write_text(
    path: Path, text: str, stage: Path | None = None, within: Path | None = None
) -> None:
    _atomic(path, lambda h: h.write(text), "w", stage, within)


def atomic_write_bytes(
    path: Path, data: bytes, stage: Path | None = None, within: Path | None = None
) -> None:
    _atomic(path, lambda h: h.write(data), "wb", stage, within)


def atomic_write_csv(
    path: Path, frame: pd.DataFrame, stage: Path | None = None, within: Path | None = None
) -> None:
    _atomic(path, lambda h: frame.to_csv(h, index=False), "w", stage, within)


def atomic_torch_save(
    path: Path, obj: object, stage: Path | None = None, within: Path | None = None
) -> None:
    _atomic(path, lambda h: torch.save(obj, h), "wb", stage, within)


class NoFollowFileHandler(logging.FileHandler):
    """A log file handler (the job log, `hydra.job_logging` in conf/config.yaml) that
    appends only to a regular file reached without following a symbolic link at its name:
    a link, FIFO or device planted where the log goes is refused (an OSError, which
    `logging` reports on stderr), never written through or waited on."""

    def _open(self):
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
        fd = os.open(self.baseFilename, flags | os.O_CLOEXEC, 0o666)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise UnsafePath(errno.EINVAL, "not a regular file", self.baseFilename)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def planted_entries(folder: Path, limit: int = 5) -> list[str]:
    """What makes `folder` unsafe to write into: `folder` itself when it is a symbolic link
    or no folder, else the first `limit` symbolic links, FIFOs, devices and sockets below
    it (found without following a link); none when `folder` does not exist."""
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        return []
    if not stat.S_ISDIR(mode):
        kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a folder"
        return [f"{folder} ({kind})"]
    found = []
    for parent, folders, files in os.walk(folder):
        for name in [*folders, *files]:
            mode = os.lstat(os.path.join(parent, name)).st_mode
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                found.append(os.path.join(parent, name))
                if len(found) >= limit:
                    return found
    return found


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


def done_marker(run_dir: Path) -> int | None:
    """Trials the completion marker says are complete, None when there is none; a marker
    that is not one (another text, a link, a FIFO, too large) is a DamagedFile."""
    try:
        text = read_text(Path(run_dir) / schema.DONE_FILE, MARKER_CAP, run_dir)
    except FileNotFoundError:
        return None
    match = DONE_PATTERN.fullmatch(text)
    if not match:
        raise DamagedFile(f"{schema.DONE_FILE} does not say 'N trials complete'")
    return int(match[1])


def read_done(run_dir: Path) -> int | None:
    """Trials the completion marker says are complete; None when absent, 0 when unreadable."""
    try:
        return done_marker(run_dir)
    except DamagedFile:
        return 0


def read_config(run_dir: Path) -> dict | None:
    """A run's config.yaml as plain data (bounded, no aliases, never resolved), None when
    absent; a DamagedFile when it cannot be read or is not a mapping."""
    try:
        data = read_yaml(Path(run_dir) / schema.CONFIG_FILE, YAML_CAP, run_dir)
    except FileNotFoundError:
        return None
    if not isinstance(data, dict):
        raise DamagedFile(f"{schema.CONFIG_FILE} is not a mapping")
    return data
