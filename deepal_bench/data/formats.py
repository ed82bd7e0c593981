"""Readers for the on-disk formats the loaders accept, written against the formats
themselves (torchvision md5-checks CIFAR/SVHN and medmnist asserts official counts, so
neither is used for reading): MNIST idx (plain or gzip), CIFAR python pickle batches,
SVHN .mat, and single image files. Images come out as float32 N x C x H x W in [0, 1].

Every file is opened through `results.safe_read.open_file` on its real path: a symbolic link
to a dataset file is followed (dataset folders are often linked into place), but only a
regular file is read (a FIFO or device is refused, never waited on), sizes are bounded
(`DATA_TEXT_CAP`, `PICKLE_CAP`, an idx file's header checked against the memory available
before its data is read), and a file that cannot be read is a ConfigError naming it.
"""

import gzip
import math
import os
import pickle
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
import torch.nn.functional as F

from deepal_bench.data.inputs import check_array_memory, check_image_memory
from deepal_bench.errors import ConfigError
from deepal_bench.results.safe_read import (
    DamagedFile,
    npy_header,
    open_file,
    parse_json,
    read_bytes,
)

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
DATA_TEXT_CAP = 64 << 20  # wnids.txt, val_annotations.txt, metadata.csv: at most a few MB
ANNOTATION_CAP = 4 << 30  # iNaturalist's annotation JSON: a few hundred MB
PICKLE_CAP = 1 << 30  # a CIFAR python batch: about 31 MB


def _unreadable(path: Path, err: Exception) -> ConfigError:
    return ConfigError(
        f"dataset file {path} cannot be read ({err}); nothing in it was run. Replace it with "
        f"the official file (deepal-bench-data shows where each file comes from)."
    )


@contextmanager
def data_file(path: Path, cap: int | None = None) -> Iterator[BinaryIO]:
    """A dataset file opened as a regular file (a link to it followed; a FIFO, device or a
    file larger than `cap` is a ConfigError naming it, never waited on)."""
    try:
        with open_file(Path(os.path.realpath(path))) as (handle, size):
            if cap is not None and size > cap:
                raise DamagedFile(f"larger than {cap:,} bytes")
            yield handle
    except DamagedFile as err:
        raise _unreadable(Path(path), err) from None


def read_data_bytes(path: Path, cap: int = DATA_TEXT_CAP) -> bytes:
    """A small dataset file (a list, an annotation table) in full, at most `cap` bytes."""
    try:
        return read_bytes(Path(os.path.realpath(path)), cap)
    except DamagedFile as err:
        raise _unreadable(Path(path), err) from None


def read_data_json(path: Path, cap: int = ANNOTATION_CAP) -> object:
    """A dataset's annotation JSON (bounded size and nesting)."""
    try:
        return parse_json(read_data_bytes(path, cap).decode("utf-8"), name=str(path))
    except (DamagedFile, UnicodeDecodeError) as err:
        raise _unreadable(Path(path), err) from None


@contextmanager
def _idx_stream(path: Path) -> Iterator[BinaryIO]:
    """The idx file at `path`, or its gzip-compressed `path.gz`."""
    if path.exists():
        with data_file(path) as handle:
            yield handle
        return
    with (
        data_file(path.with_name(path.name + ".gz")) as handle,
        gzip.GzipFile(fileobj=handle, mode="rb") as stream,
    ):
        yield stream


def _exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise DamagedFile(f"it ends before the {size:,} bytes its header announces")
    return data


def read_idx(path: Path) -> np.ndarray:
    """An idx file (LeCun's MNIST format): 2 zero bytes, dtype code, ndim, big-endian dims;
    the dims are checked against the memory available before the data is read."""
    path = Path(path)
    try:
        with _idx_stream(path) as stream:
            head = stream.read(4)
            if len(head) < 4 or head[:2] != b"\x00\x00" or head[2] not in _IDX_DTYPES:
                raise DamagedFile("it is not an idx file")
            dims = tuple(int(d) for d in np.frombuffer(_exactly(stream, 4 * head[3]), ">i4"))
            dtype = np.dtype(_IDX_DTYPES[head[2]])
            if any(d < 0 for d in dims):
                raise DamagedFile(f"it declares negative dimensions {dims}")
            check_array_memory(path.name, str(path), math.prod(dims) * dtype.itemsize)
            data = _exactly(stream, math.prod(dims) * dtype.itemsize)
            if stream.read(1):
                raise DamagedFile(f"it holds more data than its dimensions {dims}")
    except (DamagedFile, EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise _unreadable(path, err) from None
    return np.frombuffer(data, dtype=dtype).reshape(dims)


# The only callables a CIFAR python batch needs: rebuilding numpy arrays and their dtypes
# (the official batches are Python 2 pickles; protocol 2+ writers add `_codecs.encode`).
PICKLE_ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),
}


class _BatchUnpickler(pickle.Unpickler):
    """Refuses every global outside `PICKLE_ALLOWED`, so a crafted file runs no code."""

    def find_class(self, module: str, name: str):
        if (module, name) not in PICKLE_ALLOWED:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: a CIFAR batch holds only numpy arrays, "
                f"lists and byte strings"
            )
        return super().find_class(module, name)


def read_pickle_batch(path: Path) -> dict:
    """A CIFAR python batch: a pickled dict with byte-string keys (b'data', b'labels', ...),
    read by a restricted unpickler (numpy arrays and plain containers only)."""
    with data_file(path, PICKLE_CAP) as handle:
        try:
            batch = _BatchUnpickler(handle, encoding="bytes").load()
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as err:
            raise ConfigError(
                f"dataset file {path} is not a CIFAR python batch ({err}); nothing in it was "
                f"run. Replace it with the official file (deepal-bench-data download cifar10)."
            ) from err
    if not isinstance(batch, dict):
        raise ConfigError(f"dataset file {path} is not a CIFAR python batch (no dict inside).")
    return batch


def read_npz(path: Path, name: str) -> dict[str, np.ndarray]:
    """Every array of an .npz archive (numpy.savez), read without pickle from a regular file
    (a FIFO or device is refused, never waited on); a folder, a file that is not an .npz
    archive, an array of Python objects or arrays larger than the memory available are a
    ConfigError naming the dataset and the file."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(
            f"dataset '{name}': {path} is a folder; dataset.path must name an .npz file "
            f"written by numpy.savez."
        )
    try:
        with open_file(Path(os.path.realpath(path))) as (handle, _):
            return _npz_arrays(handle, path, name)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise ConfigError(
            f"dataset '{name}': {path} cannot be read as an .npz archive of numeric arrays "
            f"({err}); write it with numpy.savez (arrays of numbers, not Python objects)."
        ) from None


def _npz_arrays(handle: BinaryIO, path: Path, name: str) -> dict[str, np.ndarray]:
    """The arrays, once every member's .npy header says what it holds and that all of them
    fit in memory (a header may claim any shape)."""
    if handle.read(4) != b"PK\x03\x04":
        raise ValueError("it is not a zip archive (an .npy array, or another format)")
    handle.seek(0)
    total = 0
    with zipfile.ZipFile(handle) as archive:
        for member in archive.namelist():
            with archive.open(member) as stream:
                shape, _, dtype = npy_header(stream, member, 1 << 62, "biufUS")
            total += math.prod(shape) * dtype.itemsize
    check_array_memory(name, str(path), total)
    handle.seek(0)
    with np.load(handle, allow_pickle=False) as loaded:
        return {key: loaded[key] for key in loaded.files}


def read_mat(path: Path) -> dict:
    """A MATLAB .mat file (SVHN's `X` H x W x C x N and `y` N x 1)."""
    from scipy.io import loadmat

    with data_file(path) as handle:
        return loadmat(handle)


def to_images(array: np.ndarray, layout: str = "NHWC") -> torch.Tensor:
    """uint8 (or [0, 1] float) pixels in `layout` (NHW, NHWC, NCHW) -> float32 NCHW in [0, 1]."""
    array = np.ascontiguousarray(array)
    x = torch.from_numpy(array if array.flags.writeable else array.copy())
    if layout == "NHW":
        x = x.unsqueeze(1)
    elif layout == "NHWC":
        x = x.permute(0, 3, 1, 2)
    elif layout != "NCHW":
        raise ValueError(f"unknown layout {layout}")
    if x.dtype == torch.uint8:
        return x.float().div_(255.0).contiguous()
    return x.float().contiguous()


def resize(x: torch.Tensor, size: int | None, mode: str = "bilinear") -> torch.Tensor:
    """Resize N x C x H x W images to size x size (no-op when already that size or None)."""
    if size is None or tuple(x.shape[-2:]) == (size, size):
        return x
    kwargs = {} if mode == "nearest" else {"align_corners": False, "antialias": True}
    return F.interpolate(x, size=(size, size), mode=mode, **kwargs)


def read_image(path: Path, size: int, channels: int) -> np.ndarray:
    """Decode one image file to an H x W x C uint8 array of `size` x `size` pixels; a file
    that does not decode, or is no regular file (a FIFO is never waited on), is a ConfigError
    naming it."""
    from PIL import Image

    try:
        with open_file(Path(os.path.realpath(path))) as (handle, _), Image.open(handle) as img:
            img = img.convert("L" if channels == 1 else "RGB")
            if img.size != (size, size):
                img = img.resize((size, size), Image.BILINEAR)
            array = np.asarray(img, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, EOFError, struct.error,
            Image.DecompressionBombError) as err:  # fmt: skip
        raise ConfigError(
            f"dataset image {path} cannot be decoded ({type(err).__name__}: {err}); replace "
            f"or remove the file."
        ) from None
    return array[:, :, None] if array.ndim == 2 else array


def read_images(paths: list[Path], size: int, channels: int) -> torch.Tensor:
    """Decode and stack image files into float32 N x C x size x size in [0, 1]."""
    check_image_memory("dataset.image_size", size, len(paths), channels)
    out = np.empty((len(paths), size, size, channels), dtype=np.uint8)
    for i, path in enumerate(paths):
        out[i] = read_image(path, size, channels)
    return to_images(out, "NHWC")
