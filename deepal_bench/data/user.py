"""A user's own data: an ImageFolder tree or an NPZ file of arrays.

ImageFolder: `<path>/train/<class>/*.png|jpg|...`, optionally `<path>/test/<class>/...`
(otherwise a seeded stratified `test_size` split) and `<path>/val/<class>/...` (kept as
the validation set). NPZ: arrays `x_train, y_train, x_test, y_test` and optionally
`x_val, y_val, groups_test, group_names`; images as N x H x W, N x H x W x C or
N x C x H x W (uint8 pixels are scaled to [0, 1]), tabular data as N x D.
"""

from pathlib import Path

import numpy as np
import torch

from deepal_bench.data.dataset import ALData
from deepal_bench.data.folders import image_files
from deepal_bench.data.formats import read_images, to_images
from deepal_bench.data.sources import Source, ensure, register_source
from deepal_bench.data.splits import stratified_split
from deepal_bench.data.vision import raw_images
from deepal_bench.errors import ConfigError
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


def _class_tree(folder: Path, classes: list[str]) -> tuple[list[Path], list[int]]:
    files, labels = [], []
    for i, cls in enumerate(classes):
        found = image_files(folder / cls)
        files += found
        labels += [i] * len(found)
    return files, labels


def load_imagefolder(
    root: str | None = None,
    path: str | None = None,
    image_size: PositiveInt = 32,
    channels: int = 3,
    test_size: TestSize = 0.2,
    split_seed: int = 0,
) -> ALData:
    """Images in class sub-folders; class indices follow the sorted folder names of train/."""
    path = _absolute(path)
    base = ensure("imagefolder", root, False, {"path": path}) / (path or "imagefolder")
    classes = sorted(p.name for p in (base / "train").iterdir() if p.is_dir())
    files, labels = _class_tree(base / "train", classes)
    if not files:
        raise ConfigError(f"dataset 'imagefolder': no images under {base / 'train'}/<class>/.")
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


def _array(x: np.ndarray) -> torch.Tensor:
    if x.ndim == 2:
        return torch.from_numpy(np.ascontiguousarray(x)).float()
    if x.ndim == 3:
        return to_images(x, "NHW")
    if x.ndim == 4:
        channels_last = x.shape[-1] in (1, 3) and x.shape[1] not in (1, 3)
        return to_images(x, "NHWC" if channels_last else "NCHW")
    raise ConfigError(
        f"dataset 'npz': arrays must be 2-D (tabular) or 3/4-D (images), got {x.shape}."
    )


def load_npz(root: str | None = None, path: str | None = None) -> ALData:
    """Arrays from an .npz file; num_classes = largest label + 1."""
    path = _absolute(path)
    file = ensure("npz", root, False, {"path": path}) / (path or "dataset.npz")
    with np.load(file, allow_pickle=False) as npz:
        missing = sorted({"x_train", "y_train", "x_test", "y_test"} - set(npz.files))
        if missing:
            raise ConfigError(f"dataset 'npz': {file} lacks arrays {', '.join(missing)}.")
        arrays = {key: npz[key] for key in npz.files}
    labels = [arrays["y_train"], arrays["y_test"]] + (
        [arrays["y_val"]] if "y_val" in arrays else []
    )
    extra = {}
    if "x_val" in arrays:
        extra = {
            "x_val": _array(arrays["x_val"]),
            "y_val": torch.from_numpy(arrays["y_val"]).long(),
        }
    if "groups_test" in arrays:
        extra["groups_test"] = torch.from_numpy(arrays["groups_test"]).long()
        extra["group_names"] = [str(g) for g in arrays.get("group_names", [])] or None
    return raw_images(
        "npz",
        _array(arrays["x_train"]),
        arrays["y_train"].reshape(-1),
        _array(arrays["x_test"]),
        arrays["y_test"].reshape(-1),
        int(max(int(y.max()) for y in labels)) + 1,
        meta={"source": str(file)},
        **extra,
    )
