"""MedMNIST v2/v3 2D datasets (Yang et al. 2023), read from the official `.npz` files with
numpy: `<root>/medmnist/<flag>.npz` (28 px) or `<flag>_<size>.npz` (64/128/224 px), keys
`{train,val,test}_{images,labels}`. The `medmnist` package (extra `datasets`) is used only
to download. DeepAL+ uses PneumoniaMNIST (Table 3: pool = official train + val, 5,232);
FALCUN uses BloodMNIST and DermaMNIST (Table 4: official train, 11,959 / 7,007) rescaled to
32x32 with nearest-neighbour interpolation (App. B.1).
"""

from pathlib import Path

import numpy as np
import torch

from deepal_bench.data.dataset import ALData
from deepal_bench.data.descriptor import Descriptor, Sizes, square
from deepal_bench.data.formats import read_npz, to_images
from deepal_bench.data.sources import Source, ensure, register_source
from deepal_bench.data.vision import raw_images
from deepal_bench.errors import ConfigError, unknown_choice

# flag -> (classes, channels, licence) for the single-label 2D sets (MedMNIST v3 INFO).
FLAGS = {
    "pathmnist": (9, 3, "CC BY 4.0"),
    "dermamnist": (7, 3, "CC BY-NC 4.0"),
    "octmnist": (4, 1, "CC BY 4.0"),
    "pneumoniamnist": (2, 1, "CC BY 4.0"),
    "retinamnist": (5, 3, "CC BY 4.0"),
    "breastmnist": (2, 1, "CC BY 4.0"),
    "bloodmnist": (8, 3, "CC BY 4.0"),
    "tissuemnist": (8, 1, "CC BY 4.0"),
    "organamnist": (11, 1, "CC BY 4.0"),
    "organcmnist": (11, 1, "CC BY 4.0"),
    "organsmnist": (11, 1, "CC BY 4.0"),
}
# flag -> official train / val / test images (medmnist 3.0 INFO "n_samples", the files of
# zenodo record 10519652; MedMNIST v2 paper, Yang et al. 2023, Table 1).
SPLITS = {
    "pathmnist": (89_996, 10_004, 7_180),
    "dermamnist": (7_007, 1_003, 2_005),
    "octmnist": (97_477, 10_832, 1_000),
    "pneumoniamnist": (4_708, 524, 624),
    "retinamnist": (1_080, 120, 400),
    "breastmnist": (546, 78, 156),
    "bloodmnist": (11_959, 1_712, 3_421),
    "tissuemnist": (165_466, 23_640, 47_280),
    "organamnist": (34_561, 6_491, 17_778),
    "organcmnist": (12_975, 2_392, 8_216),
    "organsmnist": (13_932, 2_452, 8_827),
}
SIZES = (28, 64, 128, 224)
VAL_MODES = ("pool", "validation", "drop")
# DeepAL+ App. D.2 (PneumoniaMNIST): horizontal flip, rotation 10, translation 0.05.
PNEUMONIA_AUGMENT = {"hflip": 0.5, "rotate": 10.0, "translate": 0.05}


def npz_name(flag: str, size: int) -> str:
    return f"medmnist/{flag}.npz" if size == 28 else f"medmnist/{flag}_{size}.npz"


def _fetch(root: Path, options: dict) -> None:
    try:
        import medmnist
    except ImportError as err:
        raise ConfigError(
            "downloading MedMNIST needs the `medmnist` package: "
            "pip install 'deepal-bench[datasets]'."
        ) from err
    flag, size = options.get("flag", "pneumoniamnist"), int(options.get("size", 28))
    folder = root / "medmnist"
    folder.mkdir(parents=True, exist_ok=True)
    cls = getattr(medmnist, medmnist.INFO[flag]["python_class"])
    cls(split="test", download=True, root=str(folder), size=None if size == 28 else size)


register_source(
    Source(
        "medmnist",
        lambda o: [npz_name(o.get("flag", "pneumoniamnist"), int(o.get("size", 28)))],
        "download <flag>[_<size>].npz from https://zenodo.org/records/10519652 into "
        "<root>/medmnist/.",
        "https://medmnist.com (Yang et al. 2023; licence per flag, e.g. PneumoniaMNIST "
        "CC BY 4.0, DermaMNIST CC BY-NC 4.0)",
        _fetch,
    )
)


def _split(npz, part: str, channels: int) -> tuple[torch.Tensor, np.ndarray]:
    images, labels = npz[f"{part}_images"], npz[f"{part}_labels"]
    if labels.ndim == 2 and labels.shape[1] != 1:
        raise ConfigError("multi-label MedMNIST sets (e.g. chestmnist) are not supported.")
    return to_images(images, "NHW" if channels == 1 else "NHWC"), labels.reshape(-1)


def load_medmnist(
    root: str | None = None,
    download: bool = False,
    flag: str = "pneumoniamnist",
    size: int = 28,
    val: str = "pool",
) -> ALData:
    """A MedMNIST 2D set by `flag` at `size` px. `val`: `pool` merges the official
    validation split into the training pool (DeepAL+), `validation` keeps it as the
    validation set, `drop` discards it (FALCUN)."""
    if flag not in FLAGS:
        raise unknown_choice("dataset.flag", flag, FLAGS)
    if int(size) not in SIZES:
        raise unknown_choice("dataset.size", size, SIZES)
    if val not in VAL_MODES:
        raise unknown_choice("dataset.val", val, VAL_MODES)
    classes, channels, licence = FLAGS[flag]
    options = {"flag": flag, "size": int(size)}
    path = ensure("medmnist", root, download, options) / npz_name(flag, int(size))
    npz = read_npz(path, flag)
    x_train, y_train = _split(npz, "train", channels)
    x_val, y_val = _split(npz, "val", channels)
    x_test, y_test = _split(npz, "test", channels)
    extra = {}
    if val == "pool":
        x_train, y_train = torch.cat([x_train, x_val]), np.concatenate([y_train, y_val])
    elif val == "validation":
        extra = {"x_val": x_val, "y_val": torch.as_tensor(y_val, dtype=torch.long)}
    return raw_images(
        flag,
        x_train,
        y_train,
        x_test,
        y_test,
        classes,
        augment=PNEUMONIA_AUGMENT if flag == "pneumoniamnist" else None,
        meta={"flag": flag, "size": int(size), "licence": licence},
        **extra,
    )


def _sizes(options: dict) -> Sizes:
    """The official splits of `flag`; `val` decides where the validation split goes."""
    flag, val = options["flag"], options["val"]
    if flag not in FLAGS:
        raise unknown_choice("dataset.flag", flag, FLAGS)
    if val not in VAL_MODES:
        raise unknown_choice("dataset.val", val, VAL_MODES)
    classes, channels, _ = FLAGS[flag]
    n_train, n_val, n_test = SPLITS[flag]
    shape = square(channels, options["size"])
    if val == "pool":
        return Sizes(shape, n_train + n_val, n_test, classes)
    return Sizes(shape, n_train, n_test, classes, val=n_val if val == "validation" else 0)


MEDMNIST_DESCRIPTOR = Descriptor(
    _sizes, tuple({"flag": flag} for flag in FLAGS), variant_name=lambda options: options["flag"]
)
