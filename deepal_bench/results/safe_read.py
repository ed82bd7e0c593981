"""Bounded, inert reading of the files of a results or data folder, every one of them hostile.

A file is opened only if it is a regular file reached without following a symbolic link:
the last component is opened with O_NOFOLLOW and, when `within` (the run directory) is
given, every folder between `within` and the file too, one `openat` at a time, so no link
leads out of the run directory and none is swapped in between a check and the open.
O_NONBLOCK makes opening a FIFO return at once; `fstat` on the open descriptor then refuses
FIFOs, devices, sockets and folders. At most a size cap is read (per kind below), parsers
get bounded input, YAML refuses aliases (our writers never emit them, and an alias bomb is
a few hundred bytes) and nesting deeper than a limit, JSON is depth-checked before it is
parsed, and .npy files are read from their header without pickle, their element count
bounded before anything is allocated.

Every refusal is a `DamagedFile` whose message is one line naming the file and the reason
("config.yaml is a FIFO, not a regular file"); readers report it as "skipped as damaged:
<reason>". A missing file raises FileNotFoundError instead, so a reader can tell absence
(a run written before a file existed) from damage.
"""

import errno
import io
import json
import math
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import yaml

# Size caps per kind of file (bytes); each reader may pass its own.
YAML_CAP = 1 << 20  # config.yaml, .hydra/*.yaml: a few kB in practice
JSON_CAP = 16 << 20  # provenance.json (grows by one short entry per launch), progress.json
LOCK_CAP = 64 << 10  # LOCK: one small JSON object
MARKER_CAP = 4 << 10  # DONE: one line
CSV_CAP = 256 << 20  # rounds.csv, queries.csv (one row per queried point), summary.csv
LOG_TAIL = 64 << 10  # the end of deepal-bench.log that is read
READ_CHUNK = 1 << 20  # bytes asked of the file at a time
NPY_HEADER_CAP = 64 << 10  # numpy's own default limit is 10,000 bytes
NPY_ELEMENTS = 1 << 28  # elements of one .npy file (1 GiB of int32 predictions)
YAML_DEPTH = 64  # nesting levels; our config.yaml has 4
JSON_DEPTH = 64

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))  # fmt: skip
_KIND_NAMES = {"b": "booleans", "i": "integers", "u": "integers", "f": "floats",
               "U": "strings", "S": "bytes"}  # fmt: skip
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


class DamagedFile(ValueError):
    """A file that cannot be read safely or parsed; the message is one line naming it."""


def _shown(path: Path, within: Path | None) -> str:
    if within is not None:
        try:
            return str(Path(os.path.abspath(path)).relative_to(os.path.abspath(within)))
        except ValueError:
            pass
    return str(path)


def _refusal(err: OSError, shown: str, folder: str | None = None) -> OSError:
    """The exception for a failed open of `shown` (or of `folder` on its way): a missing
    file stays a FileNotFoundError, the rest is damage."""
    if isinstance(err, FileNotFoundError):
        return FileNotFoundError(errno.ENOENT, "No such file or folder", shown)
    if err.errno in (errno.ELOOP, errno.ENOTDIR):  # a symbolic link where none may be
        if folder is not None:
            return DamagedFile(f"{shown}: the folder {folder} is a symbolic link or no folder")
        return DamagedFile(f"{shown} is a symbolic link")
    return DamagedFile(f"{shown} cannot be opened ({err.strerror or err})")


def _parts_below(path: Path, within: Path) -> tuple[str, ...]:
    try:
        parts = Path(os.path.abspath(path)).relative_to(os.path.abspath(within)).parts
    except ValueError:
        raise DamagedFile(f"{path} is outside {within}") from None
    if not parts:
        raise DamagedFile(f"{path} is the folder itself, not a file in it")
    return parts


def _open_below(path: Path, within: Path) -> int:
    """Open `path` from `within` one component at a time, following no symbolic link."""
    parts, shown = _parts_below(path, within), _shown(path, within)
    fd = os.open(within, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for i, part in enumerate(parts[:-1]):
            try:
                inner = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except OSError as err:
                raise _refusal(err, shown, "/".join(parts[: i + 1])) from None
            os.close(fd)
            fd = inner
        try:
            return os.open(parts[-1], _FILE_FLAGS, dir_fd=fd)
        except OSError as err:
            raise _refusal(err, shown) from None
    finally:
        os.close(fd)


def _open_fd(path: Path, within: Path | None) -> int:
    if within is not None:
        return _open_below(path, within)
    try:
        return os.open(path, _FILE_FLAGS)
    except OSError as err:
        raise _refusal(err, str(path)) from None


@contextmanager
def open_file(path: Path, within: Path | None = None) -> Iterator[tuple[BinaryIO, int]]:
    """(binary handle, size in bytes) of a regular file reached without following a
    symbolic link (below `within` when given); never blocks on a FIFO."""
    fd = _open_fd(Path(path), within)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "special")
            raise DamagedFile(f"{_shown(Path(path), within)} is {kind}, not a regular file")
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle, info.st_size


def _read_up_to(handle: BinaryIO, limit: int) -> bytes:
    """The handle's bytes up to EOF or `limit`, in chunks, so memory follows what the file
    holds rather than the limit (one `read(limit)` reserves the whole limit at once)."""
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0 and (chunk := handle.read(min(READ_CHUNK, remaining))):
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_bytes(path: Path, cap: int, within: Path | None = None) -> bytes:
    """At most `cap` bytes: the whole file, or a DamagedFile if it is (or grows) larger."""
    with open_file(path, within) as (handle, size):
        data = _read_up_to(handle, cap + 1) if size <= cap else b""
    if size > cap or len(data) > cap:
        raise DamagedFile(f"{_shown(Path(path), within)} is larger than {cap:,} bytes")
    return data


def read_text(path: Path, cap: int, within: Path | None = None) -> str:
    """The file as UTF-8 text (at most `cap` bytes)."""
    data = read_bytes(path, cap, within)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DamagedFile(
            f"{_shown(Path(path), within)} is not UTF-8 text ({err.reason})"
        ) from None


def read_tail(path: Path, size: int = LOG_TAIL, within: Path | None = None) -> str:
    """The last `size` bytes of a text file (a log), starting at a whole line; undecodable
    bytes are replaced."""
    with open_file(path, within) as (handle, total):
        handle.seek(max(0, total - size))
        data = handle.read(size)
    text = data.decode("utf-8", errors="replace")
    if total > size:
        text = text.partition("\n")[2]
    return text


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())[:300]


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and nesting deeper than `max_depth` while composing,
    so no document costs more than its size and no recursion limit is reached."""

    max_depth = YAML_DEPTH
    depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise DamagedFile(f"uses a YAML alias (line {mark.line + 1}); records never do")
        if self.depth >= self.max_depth:
            line = self.peek_event().start_mark.line + 1
            raise DamagedFile(f"is nested deeper than {self.max_depth} levels (line {line})")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def parse_yaml(text: str, max_depth: int = YAML_DEPTH, name: str = "YAML") -> object:
    """A YAML document as plain data (safe tags only, no aliases, at most `max_depth` deep)."""
    try:
        loader = _BoundedLoader(text)  # checks the characters first (a yaml.ReaderError)
    except yaml.YAMLError as err:
        raise DamagedFile(f"{name} is not valid YAML ({_one_line(err)})") from None
    loader.max_depth = max_depth
    try:
        return loader.get_single_data()
    except DamagedFile as err:
        raise DamagedFile(f"{name} {err}") from None
    except yaml.YAMLError as err:
        raise DamagedFile(f"{name} is not valid YAML ({_one_line(err)})") from None
    finally:
        loader.dispose()


def read_yaml(
    path: Path, cap: int = YAML_CAP, within: Path | None = None, max_depth: int = YAML_DEPTH
) -> object:
    """A YAML file as plain data: bounded size, no aliases, bounded depth."""
    return parse_yaml(read_text(path, cap, within), max_depth, _shown(Path(path), within))


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str, max_depth: int = JSON_DEPTH, name: str = "JSON") -> object:
    """A JSON document (strict: no NaN or Infinity), refused before parsing when it nests
    deeper than `max_depth`."""
    depth = 0
    for bracket in _BRACKETS.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > max_depth:
            raise DamagedFile(f"{name} is nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except ValueError as err:
        raise DamagedFile(f"{name} is not valid JSON ({_one_line(err)})") from None


def read_json(
    path: Path, cap: int = JSON_CAP, within: Path | None = None, max_depth: int = JSON_DEPTH
) -> object:
    """A JSON file: bounded size, bounded depth, strict constants."""
    return parse_json(read_text(path, cap, within), max_depth, _shown(Path(path), within))


def read_csv(path: Path, cap: int = CSV_CAP, within: Path | None = None) -> pd.DataFrame:
    """A CSV file (at most `cap` bytes) as a DataFrame."""
    data = read_bytes(path, cap, within)
    try:
        return pd.read_csv(io.BytesIO(data))
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        shown = _shown(Path(path), within)
        raise DamagedFile(f"{shown} is not a readable CSV ({_one_line(err)})") from None


def npy_header(
    handle: BinaryIO, name: str, max_elements: int = NPY_ELEMENTS, kinds: str = "biuf"
) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran order, dtype) from an .npy header, read without pickle; refused when
    the file is not .npy (an .npz is a zip archive), the dtype is not of `kinds` (object
    arrays would need pickle) or the shape holds more than `max_elements` elements."""
    magic = handle.read(len(_NPY_MAGIC) + 2)
    if magic.startswith(_ZIP_MAGIC):
        raise DamagedFile(f"{name} is a zip archive (an .npz saved under an .npy name)")
    if not magic.startswith(_NPY_MAGIC) or len(magic) < len(_NPY_MAGIC) + 2:
        raise DamagedFile(f"{name} is not an .npy file")
    version = (magic[-2], magic[-1])
    readers = {(1, 0): np.lib.format.read_array_header_1_0,
               (2, 0): np.lib.format.read_array_header_2_0}  # fmt: skip
    if version not in readers:
        raise DamagedFile(f"{name} has .npy format version {version}, not 1.0 or 2.0")
    try:
        shape, fortran, dtype = readers[version](handle, max_header_size=NPY_HEADER_CAP)
    except (ValueError, SyntaxError, TypeError) as err:
        raise DamagedFile(f"{name} has a damaged .npy header ({_one_line(err)})") from None
    if dtype.hasobject or dtype.kind not in kinds:
        allowed = ", ".join(dict.fromkeys(_KIND_NAMES[k] for k in kinds))
        raise DamagedFile(f"{name} holds dtype {dtype}; only arrays of {allowed} are read")
    if any(n < 0 for n in shape) or math.prod(shape) > max_elements:
        raise DamagedFile(f"{name} claims shape {shape}, more than {max_elements:,} elements")
    return shape, fortran, dtype


def read_npy(
    path: Path, within: Path | None = None, max_elements: int = NPY_ELEMENTS, kinds: str = "biuf"
) -> np.ndarray:
    """An .npy array read from its header (see `npy_header`); the data must fill the rest of
    the file exactly."""
    name = _shown(Path(path), within)
    with open_file(path, within) as (handle, size):
        shape, fortran, dtype = npy_header(handle, name, max_elements, kinds)
        count = math.prod(shape)
        if size - handle.tell() != count * dtype.itemsize:
            raise DamagedFile(f"{name} holds {size - handle.tell():,} data bytes, not the "
                              f"{count * dtype.itemsize:,} its header claims")  # fmt: skip
        array = np.empty(count, dtype=dtype)
        if handle.readinto(array.view(np.uint8)) != array.nbytes:
            raise DamagedFile(f"{name} ended early")
    return array.reshape(shape, order="F" if fortran else "C")


def special_kind(path: Path) -> str | None:
    """What `path` itself is when it is there but no regular file ("a symbolic link", "a
    FIFO", "a device", "a socket", "a folder"); None for a regular file or nothing."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return next((name for test, name in _KINDS if test(mode)), "special")


def is_regular_file(path: Path) -> bool:
    """Whether `path` itself is a regular file (a symbolic link, FIFO or device is not)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False
