"""The torchvision datasets, read from torchvision's own on-disk layout so an existing
torchvision data folder works: MNIST, FashionMNIST, EMNIST (idx files), CIFAR-10/100
(python pickle batches), SVHN (.mat), and CIFAR10-imb (DeepAL+ §3.1: the CIFAR-10 training
set sub-sampled 1:2:...:10 for classes 0-9). With `download=true` the files are fetched
by torchvision's real downloaders; reading never goes through torchvision.

Loaders return raw pixels in [0, 1]; `load_dataset` normalises them (DeepAL+ App. D.2).
"""

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from deepal_bench.data.dataset import ALData
from deepal_bench.data.derived import imbalance_indices
from deepal_bench.data.descriptor import Descriptor, Sizes, fixed
from deepal_bench.data.formats import read_idx, read_mat, read_pickle_batch, to_images
from deepal_bench.data.sources import SOURCES, Source, ensure, register_source
from deepal_bench.errors import unknown_choice
from deepal_bench.seeding import generator

_IDX = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte")
_IDX_TEST = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
EMNIST_CLASSES = {"byclass": 62, "bymerge": 47, "balanced": 47, "letters": 26, "digits": 10,
                  "mnist": 10}  # fmt: skip
# Train / test images per EMNIST split (Cohen et al. 2017, Table II).
EMNIST_SIZES = {"byclass": (697_932, 116_323), "bymerge": (697_932, 116_323),
                "balanced": (112_800, 18_800), "letters": (124_800, 20_800),
                "digits": (240_000, 40_000), "mnist": (60_000, 10_000)}  # fmt: skip
CROP_FLIP = {"crop_pad": 4, "hflip": 0.5}  # DeepAL+ App. D.2 (CIFAR10/100)


def raw_images(name: str, x_train, y_train, x_test, y_test, num_classes: int, **extra) -> ALData:
    """An ALData of un-normalised images in [0, 1]; `load_dataset` finishes it."""
    meta = {"raw": True, "augment": extra.pop("augment", None), **extra.pop("meta", {})}
    return ALData(
        name=name,
        x_train=x_train,
        y_train=torch.as_tensor(np.asarray(y_train), dtype=torch.long),
        x_test=x_test,
        y_test=torch.as_tensor(np.asarray(y_test), dtype=torch.long),
        num_classes=num_classes,
        meta=meta,
        **extra,
    )


# --- MNIST family -------------------------------------------------------------------------


def _mnist_files(folder: str):
    return lambda _: [f"{folder}/raw/{f}" for f in _IDX + _IDX_TEST]


def _tv_fetch(cls_name: str, **kwargs):
    def fetch(root: Path, options: dict) -> None:
        import torchvision.datasets as tvd

        cls = getattr(tvd, cls_name)
        for train in (True, False):
            cls(str(root), train=train, download=True, **kwargs)

    return fetch


for _name, _folder, _url in (
    ("mnist", "MNIST", "http://yann.lecun.com/exdb/mnist/ (CC BY-SA 3.0)"),
    ("fashionmnist", "FashionMNIST", "https://github.com/zalandoresearch/fashion-mnist (MIT)"),
):
    register_source(
        Source(
            _name,
            _mnist_files(_folder),
            f"place the four idx files (optionally .gz) in <root>/{_folder}/raw/.",
            _url,
            _tv_fetch(_folder),
        )
    )


def _emnist_files(options: dict) -> list[str]:
    split = options.get("split", "byclass")
    return [
        f"EMNIST/raw/emnist-{split}-{part}"
        for part in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                     "test-images-idx3-ubyte", "test-labels-idx1-ubyte")
    ]  # fmt: skip


def _emnist_fetch(root: Path, options: dict) -> None:
    import torchvision.datasets as tvd

    tvd.EMNIST(str(root), split=options.get("split", "byclass"), download=True)


register_source(
    Source(
        "emnist",
        _emnist_files,
        "unzip gzip.zip from NIST and place the emnist-<split>-* idx files (optionally .gz) "
        "in <root>/EMNIST/raw/.",
        "https://www.nist.gov/itl/products-and-services/emnist-dataset (CC BY-SA 3.0)",
        _emnist_fetch,
    )
)


def _read_idx_pair(root: Path, images: str, labels: str) -> tuple[torch.Tensor, np.ndarray]:
    return to_images(read_idx(root / images), "NHW"), read_idx(root / labels).astype(np.int64)


def load_mnist_family(name: str, root: str | None = None, download: bool = False) -> ALData:
    """MNIST or FashionMNIST: 60,000 train / 10,000 test 1x28x28 images, 10 classes."""
    folder = {"mnist": "MNIST", "fashionmnist": "FashionMNIST"}[name]
    path = ensure(name, root, download) / folder / "raw"
    x_train, y_train = _read_idx_pair(path, *_IDX)
    x_test, y_test = _read_idx_pair(path, *_IDX_TEST)
    return raw_images(name, x_train, y_train, x_test, y_test, 10)


MNIST_DESCRIPTOR = fixed((1, 28, 28), 60_000, 10_000, 10)
FASHIONMNIST_DESCRIPTOR = fixed((1, 28, 28), 60_000, 10_000, 10)


def load_emnist(root: str | None = None, download: bool = False, split: str = "byclass") -> ALData:
    """EMNIST (Cohen et al. 2017) by split; byclass has 697,932/116,323 images, 62 classes
    (DeepAL+ Table 3), balanced 131,600 images, 47 classes (FALCUN Table 4), letters 26
    classes (DMLE). Images are stored transposed in the idx files and are transposed back;
    letters labels 1-26 become 0-25."""
    if split not in EMNIST_CLASSES:
        raise unknown_choice("dataset.split", split, EMNIST_CLASSES)
    path = ensure("emnist", root, download, {"split": split}) / "EMNIST" / "raw"
    parts = []
    for part in ("train", "test"):
        x, y = _read_idx_pair(
            path,
            f"emnist-{split}-{part}-images-idx3-ubyte",
            f"emnist-{split}-{part}-labels-idx1-ubyte",
        )
        parts += [x.transpose(-1, -2).contiguous(), y - 1 if split == "letters" else y]
    return raw_images("emnist", *parts, EMNIST_CLASSES[split], meta={"split": split})


def _emnist_sizes(options: dict) -> Sizes:
    split = options["split"]
    if split not in EMNIST_CLASSES:
        raise unknown_choice("dataset.split", split, EMNIST_CLASSES)
    return Sizes((1, 28, 28), *EMNIST_SIZES[split], EMNIST_CLASSES[split])


EMNIST_DESCRIPTOR = Descriptor(_emnist_sizes, tuple({"split": s} for s in EMNIST_SIZES))


# --- CIFAR ----------------------------------------------------------------------------------

_CIFAR10_FILES = [f"cifar-10-batches-py/data_batch_{i}" for i in range(1, 6)] + [
    "cifar-10-batches-py/test_batch"
]
_CIFAR100_FILES = ["cifar-100-python/train", "cifar-100-python/test"]


def _tv_fetch_once(cls_name: str):
    def fetch(root: Path, options: dict) -> None:
        import torchvision.datasets as tvd

        getattr(tvd, cls_name)(str(root), download=True)

    return fetch


register_source(
    Source(
        "cifar10",
        lambda _: list(_CIFAR10_FILES),
        "extract cifar-10-python.tar.gz into <root> (giving <root>/cifar-10-batches-py/).",
        "https://www.cs.toronto.edu/~kriz/cifar.html (MIT, per DeepAL+ App. C)",
        _tv_fetch_once("CIFAR10"),
    )
)
register_source(replace(SOURCES["cifar10"], name="cifar10_imb"))
register_source(
    Source(
        "cifar100",
        lambda _: list(_CIFAR100_FILES),
        "extract cifar-100-python.tar.gz into <root> (giving <root>/cifar-100-python/).",
        "https://www.cs.toronto.edu/~kriz/cifar.html (MIT, per DeepAL+ App. C)",
        _tv_fetch_once("CIFAR100"),
    )
)


def _cifar_batches(root: Path, files: list[str], label_key: bytes):
    batches = [read_pickle_batch(root / f) for f in files]
    data = np.concatenate([b[b"data"] for b in batches]).reshape(-1, 3, 32, 32)
    labels = np.concatenate([np.asarray(b[label_key]) for b in batches])
    return to_images(data, "NCHW"), labels


def load_cifar10(root: str | None = None, download: bool = False) -> ALData:
    """CIFAR-10: 50,000 train / 10,000 test 3x32x32 images, 10 classes; DeepAL+ App. D.2
    augmentation (random crop, pad 4; horizontal flip p=0.5)."""
    path = ensure("cifar10", root, download)
    x_train, y_train = _cifar_batches(path, _CIFAR10_FILES[:5], b"labels")
    x_test, y_test = _cifar_batches(path, _CIFAR10_FILES[5:], b"labels")
    return raw_images("cifar10", x_train, y_train, x_test, y_test, 10, augment=CROP_FLIP)


CIFAR10_DESCRIPTOR = fixed((3, 32, 32), 50_000, 10_000, 10)


def load_cifar10_imb(
    root: str | None = None,
    download: bool = False,
    ratios: list[float] | tuple[float, ...] = tuple(range(1, 11)),
    split_seed: int = 0,
) -> ALData:
    """CIFAR10-imb (DeepAL+ §3.1): class c of the training set keeps ratios[c]/max(ratios)
    of its images (1:2:...:10 -> 500, 1000, ..., 5000 = 27,500 images); test set unchanged."""
    data = load_cifar10(root, download)
    keep = imbalance_indices(data.y_train, list(ratios), generator(split_seed, "cifar10_imb"))
    data.x_train, data.y_train = data.x_train[keep], data.y_train[keep]
    data.name = "cifar10_imb"
    return data


def _cifar10_imb_sizes(options: dict) -> Sizes:
    """Class c keeps floor(5,000 r_c / max r) of CIFAR-10's 5,000 training images per class."""
    ratios = list(options["ratios"])
    train = sum(math.floor(5_000 * r / max(ratios)) for r in ratios)
    return Sizes((3, 32, 32), train, 10_000, 10)


CIFAR10_IMB_DESCRIPTOR = Descriptor(_cifar10_imb_sizes)


def load_cifar100(root: str | None = None, download: bool = False, labels: str = "fine") -> ALData:
    """CIFAR-100: 50,000 train / 10,000 test 3x32x32 images, 100 fine (or 20 coarse)
    classes; DeepAL+ App. D.2 augmentation (random crop, pad 4; horizontal flip)."""
    if labels not in ("fine", "coarse"):
        raise unknown_choice("dataset.labels", labels, ("fine", "coarse"))
    path = ensure("cifar100", root, download)
    key = b"fine_labels" if labels == "fine" else b"coarse_labels"
    x_train, y_train = _cifar_batches(path, _CIFAR100_FILES[:1], key)
    x_test, y_test = _cifar_batches(path, _CIFAR100_FILES[1:], key)
    classes = 100 if labels == "fine" else 20
    return raw_images("cifar100", x_train, y_train, x_test, y_test, classes, augment=CROP_FLIP)


def _cifar100_sizes(options: dict) -> Sizes:
    if options["labels"] not in ("fine", "coarse"):
        raise unknown_choice("dataset.labels", options["labels"], ("fine", "coarse"))
    return Sizes((3, 32, 32), 50_000, 10_000, 100 if options["labels"] == "fine" else 20)


CIFAR100_DESCRIPTOR = Descriptor(_cifar100_sizes, ({"labels": "fine"}, {"labels": "coarse"}))


# --- SVHN -----------------------------------------------------------------------------------


def _svhn_fetch(root: Path, options: dict) -> None:
    import torchvision.datasets as tvd

    for split in ("train", "test"):
        tvd.SVHN(str(root), split=split, download=True)


register_source(
    Source(
        "svhn",
        lambda _: ["train_32x32.mat", "test_32x32.mat"],
        "place train_32x32.mat and test_32x32.mat (format 2) directly in <root>.",
        "http://ufldl.stanford.edu/housenumbers/ (non-commercial use)",
        _svhn_fetch,
    )
)


def _svhn_split(path: Path) -> tuple[torch.Tensor, np.ndarray]:
    mat = read_mat(path)
    labels = mat["y"].astype(np.int64).reshape(-1)
    labels[labels == 10] = 0  # SVHN labels the digit 0 as 10
    return to_images(np.transpose(mat["X"], (3, 2, 0, 1)), "NCHW"), labels


def load_svhn(root: str | None = None, download: bool = False) -> ALData:
    """SVHN (format 2): 73,257 train / 26,032 test 3x32x32 digits, 10 classes; DeepAL+
    App. D.2 uses normalisation only."""
    path = ensure("svhn", root, download)
    x_train, y_train = _svhn_split(path / "train_32x32.mat")
    x_test, y_test = _svhn_split(path / "test_32x32.mat")
    return raw_images("svhn", x_train, y_train, x_test, y_test, 10)


SVHN_DESCRIPTOR = fixed((3, 32, 32), 73_257, 26_032, 10)
