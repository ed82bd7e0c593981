"""Datasets bundled with scikit-learn: usable offline, the embedded default runs on them.

`digits` is 1,797 real 8x8 handwritten digits (UCI), resized to 1x28x28 for LeNet-scale
models; `iris`, `wine` and `breast_cancer` are tabular and standardised with training
statistics.
"""

import numpy as np
import torch
import torch.nn.functional as F
from sklearn import datasets as skdatasets

from deepal_bench.data.dataset import ALData
from deepal_bench.data.descriptor import Descriptor, Sizes, held_out, square
from deepal_bench.data.inputs import check_image_memory
from deepal_bench.data.splits import stratified_split
from deepal_bench.typed import PositiveInt, TestSize

_TABULAR = {
    "iris": skdatasets.load_iris,
    "wine": skdatasets.load_wine,
    "breast_cancer": skdatasets.load_breast_cancer,
}


def _split(x: torch.Tensor, y: torch.Tensor, test_size: float | int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    train, test = stratified_split(y, test_size, gen)
    return x[train], y[train], x[test], y[test]


def load_digits(
    test_size: TestSize = 0.3, split_seed: int = 0, image_size: PositiveInt = 28
) -> ALData:
    """Digits as 1 x image_size x image_size images in [0, 1], normalised by train mean/std."""
    raw = skdatasets.load_digits()
    check_image_memory("dataset.image_size", image_size, len(raw.target), 1)
    x = torch.tensor(raw.images, dtype=torch.float32).unsqueeze(1) / 16.0
    if image_size != 8:
        x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False)
    y = torch.tensor(raw.target, dtype=torch.long)
    x_train, y_train, x_test, y_test = _split(x, y, test_size, split_seed)
    mean, std = x_train.mean(), x_train.std()
    return ALData(
        name="digits",
        x_train=(x_train - mean) / std,
        y_train=y_train,
        x_test=(x_test - mean) / std,
        y_test=y_test,
        num_classes=10,
        mean=[float(mean)],
        std=[float(std)],
    )


def load_tabular(name: str, test_size: TestSize = 0.3, split_seed: int = 0) -> ALData:
    """A scikit-learn tabular dataset, standardised per feature with training statistics."""
    raw = _TABULAR[name]()
    x = torch.tensor(np.asarray(raw.data), dtype=torch.float32)
    y = torch.tensor(np.asarray(raw.target), dtype=torch.long)
    x_train, y_train, x_test, y_test = _split(x, y, test_size, split_seed)
    mean = x_train.mean(0)
    std = x_train.std(0).clamp_min(1e-8)
    return ALData(
        name=name,
        x_train=(x_train - mean) / std,
        y_train=y_train,
        x_test=(x_test - mean) / std,
        y_test=y_test,
        num_classes=int(y.max()) + 1,
    )


TABULAR_NAMES = tuple(_TABULAR)
# Rows, features and classes of the tabular sets (scikit-learn's dataset descriptions).
_TABULAR_SIZES = {"iris": (150, 4, 3), "wine": (178, 13, 3), "breast_cancer": (569, 30, 2)}


def _digits_sizes(options: dict) -> Sizes:
    """1,797 digits, 10 classes, 1 x image_size x image_size."""
    return Sizes(square(1, options["image_size"]), *held_out(1_797, options["test_size"]), 10)


def tabular_descriptor(name: str) -> Descriptor:
    """The descriptor of the bundled tabular set `name`."""
    rows, features, classes = _TABULAR_SIZES[name]
    return Descriptor(
        lambda options: Sizes((features,), *held_out(rows, options["test_size"]), classes)
    )


DIGITS_DESCRIPTOR = Descriptor(_digits_sizes)
