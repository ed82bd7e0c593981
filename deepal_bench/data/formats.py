"""Readers for the on-disk formats the loaders accept, written against the formats
themselves (torchvision md5-checks CIFAR/SVHN and medmnist asserts official counts, so
neither is used for reading): MNIST idx (plain or gzip), CIFAR python pickle batches,
SVHN .mat, and single image files. Images come out as float32 N x C x H x W in [0, 1].
"""

import gzip
import math
import os
import pickle
import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
import torch.nn.functional as F

from deepal_bench.data.inputs import check_array_memory, check_image_memory
from deepal_bench.errors import ConfigError
from deepal_bench.results.safe_read import npy_header, open_file

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _open(path: Path):
    if path.exists():
        return open(path, "rb")
    return gzip.open(path.with_name(path.name + ".gz"), "rb")


def read_idx(path: Path) -> np.ndarray:
    """An idx file (LeCun's MNIST format): 2 zero bytes, dtype code, ndim, big-endian dims."""
    with _open(Path(path)) as handle:
        raw = handle.read()
    if raw[:2] != b"\x00\x00" or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an idx file")
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4)
    data = np.frombuffer(raw, dtype=_IDX_DTYPES[raw[2]], offset=4 + 4 * ndim)
    return data.reshape(tuple(int(d) for d in dims))


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
    with open(path, "rb") as handle:
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

    return loadmat(str(path))


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
