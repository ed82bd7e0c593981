"""A user's own data: an ImageFolder tree or an NPZ file of arrays.

ImageFolder: `<path>/train/<class>/*.png|jpg|...`, optionally `<path>/test/<class>/...`
(otherwise a seeded stratified `test_size` split) and `<path>/val/<class>/...` (kept as
the validation set); test/ and val/ hold the same class folders as train/, and every class
folder holds at least one image. NPZ: arrays `x_train, y_train, x_test, y_test` and
optionally `x_val, y_val, groups_test, group_names`; images as N x H x W, N x H x W x C or
N x C x H x W (uint8 pixels are scaled to [0, 1]), tabular data as N x D; labels are
integer class indices (whole-number floats are accepted, fractions refused).
`data.inputs.check_loaded` then checks rows against labels, label ranges and finiteness.
"""

import zipfile
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from deepal_bench.data.dataset import ALData
from deepal_bench.data.descriptor import Descriptor, Sizes, Unknown, held_out, square
from deepal_bench.data.folders import IMAGE_EXTENSIONS, image_files
from deepal_bench.data.formats import data_file, read_images, read_npz, to_images
from deepal_bench.data.inputs import integer_labels
from deepal_bench.data.sources import Source, ensure, register_source, resolve_root
from deepal_bench.data.splits import stratified_split
from deepal_bench.data.vision import raw_images
from deepal_bench.errors import ConfigError
from deepal_bench.results.safe_read import NPY_ELEMENTS, npy_header
from deepal_bench.seeding import generator
from deepal_bench.typed import PositiveInt, TestSize

register_source(
    Source(
        "imagefolder",
        lambda o: [f"{o.get('path') or 'imagefolder'}/train"],
        "arrange images as <path>/train/<class>/<image> (optionally test/ and val/ alike) "
        "and pass dataset.path=<path> (default <root>/imagefolder).",
        "your own images",
    )
)
register_source(
    Source(
        "npz",
        lambda o: [o.get("path") or "dataset.npz"],
        "save arrays x_train, y_train, x_test, y_test with numpy.savez and pass "
        "dataset.path=<file> (default <root>/dataset.npz).",
        "your own arrays",
    )
)


def _absolute(path: str | None) -> str | None:
    return str(Path(path).expanduser().resolve()) if path else None


def _class_folders(folder: Path) -> list[str]:
    if not folder.is_dir():
        raise ConfigError(f"dataset 'imagefolder': {folder} must be a folder of class folders.")
    return sorted(p.name for p in folder.iterdir() if p.is_dir())


def _class_tree(folder: Path, classes: list[str]) -> tuple[list[Path], list[int]]:
    """The images of `folder`/<class>/ and their class indices; `folder` must hold exactly
    the class folders `classes`, each with at least one image."""
    found = _class_folders(folder)
    if found != classes:
        lacks, extra = sorted(set(classes) - set(found)), sorted(set(found) - set(classes))
        raise ConfigError(
            f"dataset 'imagefolder': {folder} must hold the class folders of train/ "
            f"({', '.join(classes)}); it lacks [{', '.join(lacks)}] and has extra "
            f"[{', '.join(extra)}]."
        )
    files, labels = [], []
    for i, cls in enumerate(classes):
        images = image_files(folder / cls)
        if not images:
            raise ConfigError(
                f"dataset 'imagefolder': the class folder {folder / cls} holds no images "
                f"({' '.join(IMAGE_EXTENSIONS)}); add images or remove the folder."
            )
        files += images
        labels += [i] * len(images)
    return files, labels


def load_imagefolder(
    root: str | None = None,
    path: str | None = None,
    image_size: PositiveInt = 32,
    channels: Literal[1, 3] = 3,
    test_size: TestSize = 0.2,
    split_seed: int = 0,
) -> ALData:
    """Images in class sub-folders; class indices follow the sorted folder names of train/."""
    path = _absolute(path)
    base = ensure("imagefolder", root, False, {"path": path}) / (path or "imagefolder")
    classes = _class_folders(base / "train")
    if not classes:
        raise ConfigError(f"dataset 'imagefolder': no class folders under {base / 'train'}/.")
    files, labels = _class_tree(base / "train", classes)
    x, y = read_images(files, image_size, channels), torch.tensor(labels)
    if (base / "test").is_dir():
        test_files, test_labels = _class_tree(base / "test", classes)
        x_test, y_test = read_images(test_files, image_size, channels), torch.tensor(test_labels)
    else:
        keep, test = stratified_split(y, test_size, generator(split_seed, "imagefolder"))
        x, y, x_test, y_test = x[keep], y[keep], x[test], y[test]
    extra = {}
    if (base / "val").is_dir():
        val_files, val_labels = _class_tree(base / "val", classes)
        extra = {"x_val": read_images(val_files, image_size, channels)}
        extra["y_val"] = torch.tensor(val_labels)
    return raw_images(
        "imagefolder", x, y, x_test, y_test, len(classes), meta={"classes": classes}, **extra
    )


def _array(key: str, x: np.ndarray) -> torch.Tensor:
    if x.dtype.kind not in "biuf":
        raise ConfigError(
            f"dataset 'npz': {key} has dtype {x.dtype}; features must be numbers (integer or "
            f"floating point)."
        )
    if x.ndim == 2:
        return torch.from_numpy(np.ascontiguousarray(x)).float()
    if x.ndim == 3:
        return to_images(x, "NHW")
    if x.ndim == 4:
        channels_last = x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3)
        return to_images(x, "NHWC" if channels_last else "NCHW")
    raise ConfigError(
        f"dataset 'npz': {key} must be 2-D (tabular) or 3/4-D (images), got shape {x.shape}."
    )


def load_npz(root: str | None = None, path: str | None = None) -> ALData:
    """Arrays from an .npz file; num_classes = largest label + 1."""
    path = _absolute(path)
    file = ensure("npz", root, False, {"path": path}) / (path or "dataset.npz")
    arrays = read_npz(file, "npz")
    missing = sorted({"x_train", "y_train", "x_test", "y_test"} - set(arrays))
    if missing:
        raise ConfigError(f"dataset 'npz': {file} lacks arrays {', '.join(missing)}.")
    if ("x_val" in arrays) != ("y_val" in arrays):
        raise ConfigError(f"dataset 'npz': {file} must hold both x_val and y_val, or neither.")
    labels = {k: integer_labels("npz", k, arrays[k]) for k in ("y_train", "y_test", "y_val")
              if k in arrays}  # fmt: skip
    if any(y.size == 0 for y in labels.values()):
        raise ConfigError(f"dataset 'npz': {file} has a split without rows; each needs some.")
    extra = {}
    if "x_val" in arrays:
        extra = {
            "x_val": _array("x_val", arrays["x_val"]),
            "y_val": torch.as_tensor(labels["y_val"]),
        }
    if "groups_test" in arrays:
        extra["groups_test"] = torch.from_numpy(
            integer_labels("npz", "groups_test", arrays["groups_test"])
        )
        extra["group_names"] = [str(g) for g in arrays.get("group_names", [])] or None
    return raw_images(
        "npz",
        _array("x_train", arrays["x_train"]),
        labels["y_train"],
        _array("x_test", arrays["x_test"]),
        labels["y_test"],
        int(max(int(y.max()) for y in labels.values())) + 1,
        meta={"source": str(file)},
        **extra,
    )


# -- descriptors: sizes read from the folder tree and the array headers -----------------------


def _user_file(options: dict, default: str) -> Path:
    """Where the loader looks: `path` (absolute, or under the root), else `<root>/default`."""
    return resolve_root(options.get("root")) / (_absolute(options["path"]) or default)


def _imagefolder_sizes(options: dict) -> Sizes | Unknown:
    """Images counted per class folder (file names only, nothing decoded)."""
    base = _user_file(options, "imagefolder")
    if not (base / "train").is_dir():
        return Unknown(f"no folder {base / 'train'}")
    classes = sorted(p.name for p in (base / "train").iterdir() if p.is_dir())
    n_train = len(_class_tree(base / "train", classes)[0])
    if (base / "test").is_dir():
        n_test = len(_class_tree(base / "test", classes)[0])
    else:
        n_train, n_test = held_out(n_train, options["test_size"])
    n_val = len(_class_tree(base / "val", classes)[0]) if (base / "val").is_dir() else 0
    shape = square(options["channels"], options["image_size"])
    return Sizes(shape, n_train, n_test, len(classes), val=n_val)


def _npy_shape(
    archive: zipfile.ZipFile, member: str, max_elements: int = 1 << 62
) -> tuple[int, ...]:
    """The shape in one .npy member's header (`safe_read.npy_header`; the array itself is
    not read), at most `max_elements` elements."""
    with archive.open(member) as f:
        return npy_header(f, member, max_elements, "biufUS")[0]


def _npz_input_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """One input's shape as `_array` lays the arrays out."""
    if len(shape) == 2:
        return (shape[1],)
    if len(shape) == 3:
        return (1, shape[1], shape[2])
    channels_last = shape[-1] in (1, 3) and shape[1] not in (1, 3)
    return (shape[3], shape[1], shape[2]) if channels_last else tuple(shape[1:])


def _npz_sizes(options: dict) -> Sizes | Unknown:
    """Shapes from the array headers; the classes from the labels (largest + 1), the only
    arrays read in full, once their headers say they are not too large. The file is read
    through `formats.data_file` (a regular file, never waited on). A damaged file is
    `Unknown`, never an error."""
    file = _user_file(options, "dataset.npz")
    if not file.is_file():
        return Unknown(f"no file {file}")
    try:
        with data_file(file) as handle:
            with zipfile.ZipFile(handle) as archive:
                members = set(archive.namelist())
                shapes = {
                    key: _npy_shape(archive, f"{key}.npy")
                    for key in ("x_train", "x_test", "x_val")
                    if f"{key}.npy" in members
                }
                labels = [k for k in ("y_train", "y_test", "y_val") if f"{k}.npy" in members]
                for key in labels:
                    _npy_shape(archive, f"{key}.npy", NPY_ELEMENTS)
            handle.seek(0)
            with np.load(handle, allow_pickle=False) as arrays:
                classes = max(int(arrays[k].max()) for k in labels) + 1
        x_train, x_test = shapes["x_train"], shapes["x_test"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, ConfigError) as err:
        return Unknown(f"{file} cannot be read ({type(err).__name__}: {err})")
    n_val = shapes["x_val"][0] if "x_val" in shapes else 0
    return Sizes(_npz_input_shape(x_train), x_train[0], x_test[0], classes, val=n_val)


IMAGEFOLDER_DESCRIPTOR = Descriptor(_imagefolder_sizes, from_files="counted from the class folders")
NPZ_DESCRIPTOR = Descriptor(_npz_sizes, from_files="read from the .npz array headers")
