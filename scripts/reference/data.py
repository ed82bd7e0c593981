"""Data-export shims: one file that both sides read, so both see the same pool, split and
values.

Every comparison runs on an .npz with arrays x_train, y_train, x_test, y_test (our
`dataset=npz` format, `deepal_bench/data/user.py`). Our side reads it through the normal
CLI; the authors' side reads the same arrays through `load_arrays` and their own data
classes. Tabular features are written already standardised (training mean and unbiased
std, as our pipeline computes them) and read with `dataset.normalize=none`; images are
written as uint8 H x W x C, the format the authors' handlers turn into PIL images.
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn import datasets as skdatasets

from deepal_bench.data.splits import stratified_split

ARRAYS = ("x_train", "y_train", "x_test", "y_test")


def _split(x: np.ndarray, y: np.ndarray, test_size: float | int, seed: int):
    labels = torch.as_tensor(y, dtype=torch.long)
    keep, test = stratified_split(labels, test_size, torch.Generator().manual_seed(seed))
    return x[keep.numpy()], y[keep.numpy()], x[test.numpy()], y[test.numpy()]


def standardise(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both splits standardised per feature with the training mean and unbiased std."""
    mean = x_train.mean(0)
    std = np.maximum(x_train.std(0, ddof=1), 1e-8)
    return ((x_train - mean) / std).astype(np.float32), ((x_test - mean) / std).astype(np.float32)


def digits_tabular(test_size: float = 0.3, seed: int = 0) -> dict[str, np.ndarray]:
    """scikit-learn's digits as 64 standardised features, stratified split (1,258 / 539)."""
    raw = skdatasets.load_digits()
    x, y = raw.data.astype(np.float64), raw.target.astype(np.int64)
    x_train, y_train, x_test, y_test = _split(x, y, test_size, seed)
    x_train, x_test = standardise(x_train, x_test)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def digits_images(
    size: int = 16, channels: int = 3, test_size: float = 0.3, seed: int = 0, pool: int = 0
) -> dict[str, np.ndarray]:
    """scikit-learn's digits as uint8 size x size x channels images (bilinear resize of the
    8 x 8 originals, grey replicated over the channels), stratified split; `pool` > 0 keeps
    a stratified sample of that many training images (the test split stays whole)."""
    raw = skdatasets.load_digits()
    x = torch.tensor(raw.images, dtype=torch.float32).unsqueeze(1) / 16.0
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    pixels = (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    pixels = np.repeat(pixels, channels, axis=3) if channels > 1 else pixels[..., 0]
    x_train, y_train, x_test, y_test = _split(pixels, raw.target.astype(np.int64), test_size, seed)
    if pool:
        x_train, y_train, _, _ = _split(x_train, y_train, len(y_train) - pool, seed + 1)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def iris(test_size: int = 30, seed: int = 0) -> dict[str, np.ndarray]:
    """scikit-learn's Iris, raw features (each side standardises as its code does),
    stratified split (120 / 30)."""
    raw = skdatasets.load_iris()
    x, y = raw.data.astype(np.float32), raw.target.astype(np.int64)
    x_train, y_train, x_test, y_test = _split(x, y, test_size, seed)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def iris_their_split() -> dict[str, np.ndarray]:
    """Iris split as the DMLE authors' data.py splits it (scikit-learn train_test_split,
    test_size 0.2, random_state 42, stratified), raw features."""
    from sklearn.model_selection import train_test_split

    raw = skdatasets.load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        raw.data.astype(np.float32), raw.target.astype(np.int64), test_size=0.2,
        random_state=42, stratify=raw.target,
    )  # fmt: skip
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def write(arrays: dict[str, np.ndarray], path: Path) -> Path:
    """Write the arrays as an .npz (created atomically: a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)
    return path


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """The four arrays of an exported file, as the authors' adapters read them."""
    with np.load(path, allow_pickle=False) as npz:
        return {key: npz[key] for key in ARRAYS}


def channel_stats(x_train: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-channel mean and unbiased std of uint8 N x H x W [x C] images scaled to [0, 1]:
    the statistics our `normalize: dataset` computes, handed to the authors' Normalize."""
    x = torch.as_tensor(x_train, dtype=torch.float32) / 255.0
    x = x.unsqueeze(-1) if x.ndim == 3 else x
    std, mean = torch.std_mean(x, dim=(0, 1, 2))
    return mean.tolist(), std.clamp_min(1e-8).tolist()
