"""The dataset catalogue: `dataset.name` -> loader with its descriptor (`register_dataset`;
the descriptor gives shape, classes and split sizes without loading, `data.sizes`), and
the pipeline every dataset passes.

`load_dataset` calls the loader with the keys of the `dataset` config group that it
accepts (`root`, `download`, `split_seed`, ...; any other unknown key is a ConfigError),
then on the training pool of any dataset, in this order and seeded by `split_seed`:
`imbalance` (class ratios) -> `subset` (random subset size) -> `redundancy`
(RepeatedMNIST-style) -> `noise`, `test_subset` on the test set, `image_size` (resize),
normalisation (`normalize`: per-channel / per-feature statistics of the clean training
split, `imagenet`, or `none`) and the training augmentation (`augment`: `default` = the
paper's for that dataset, null = none, or a mapping). Finally `budget.validation` points
are carved from the pool unless the loader ships a validation set.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import partial
from typing import Annotated, Literal

import torch
from omegaconf import DictConfig, OmegaConf

from deepal_bench.data import derived
from deepal_bench.data.augment import build_augment
from deepal_bench.data.bundled import (
    DIGITS_DESCRIPTOR,
    TABULAR_NAMES,
    load_digits,
    load_tabular,
    tabular_descriptor,
)
from deepal_bench.data.dataset import ALData
from deepal_bench.data.descriptor import Descriptor
from deepal_bench.data.folders import (
    BREAKHIS_DESCRIPTOR,
    INATURALIST_DESCRIPTOR,
    TINYIMAGENET_DESCRIPTOR,
    WATERBIRDS_DESCRIPTOR,
    load_breakhis,
    load_inaturalist,
    load_tinyimagenet,
    load_waterbirds,
)
from deepal_bench.data.formats import resize
from deepal_bench.data.inputs import check_classes, check_image_memory, check_loaded
from deepal_bench.data.medmnist import MEDMNIST_DESCRIPTOR, load_medmnist
from deepal_bench.data.openml import OPENML_DESCRIPTOR, load_openml
from deepal_bench.data.splits import stratified_split
from deepal_bench.data.user import (
    IMAGEFOLDER_DESCRIPTOR,
    NPZ_DESCRIPTOR,
    load_imagefolder,
    load_npz,
)
from deepal_bench.data.vision import (
    CIFAR10_DESCRIPTOR,
    CIFAR10_IMB_DESCRIPTOR,
    CIFAR100_DESCRIPTOR,
    EMNIST_DESCRIPTOR,
    FASHIONMNIST_DESCRIPTOR,
    MNIST_DESCRIPTOR,
    SVHN_DESCRIPTOR,
    load_cifar10,
    load_cifar10_imb,
    load_cifar100,
    load_emnist,
    load_mnist_family,
    load_svhn,
)
from deepal_bench.errors import ConfigError, unknown_choice
from deepal_bench.registry import Registry
from deepal_bench.seeding import generator
from deepal_bench.typed import (
    PositiveFloat,
    PositiveInt,
    Range,
    Seed,
    check_fields,
    check_options,
)

DATASETS: Registry[Callable[..., ALData]] = Registry("dataset.name")
DESCRIPTORS: dict[str, Descriptor] = {}


def register_dataset(name: str, loader: Callable[..., ALData], descriptor: Descriptor) -> None:
    """Register `loader` as `dataset.name: <name>` together with its descriptor (its shape,
    classes and split sizes per option, known without loading it)."""
    if not isinstance(descriptor, Descriptor):
        raise TypeError(f"dataset '{name}' needs a Descriptor, got {descriptor!r}")
    DATASETS.register(name)(loader)
    DESCRIPTORS[name] = descriptor


register_dataset("digits", load_digits, DIGITS_DESCRIPTOR)
for _name in TABULAR_NAMES:
    register_dataset(_name, partial(load_tabular, _name), tabular_descriptor(_name))
for _name, (_loader, _descriptor) in {
    "mnist": (partial(load_mnist_family, "mnist"), MNIST_DESCRIPTOR),
    "fashionmnist": (partial(load_mnist_family, "fashionmnist"), FASHIONMNIST_DESCRIPTOR),
    "emnist": (load_emnist, EMNIST_DESCRIPTOR),
    "cifar10": (load_cifar10, CIFAR10_DESCRIPTOR),
    "cifar10_imb": (load_cifar10_imb, CIFAR10_IMB_DESCRIPTOR),
    "cifar100": (load_cifar100, CIFAR100_DESCRIPTOR),
    "svhn": (load_svhn, SVHN_DESCRIPTOR),
    "medmnist": (load_medmnist, MEDMNIST_DESCRIPTOR),
    "openml": (load_openml, OPENML_DESCRIPTOR),
    "tinyimagenet": (load_tinyimagenet, TINYIMAGENET_DESCRIPTOR),
    "breakhis": (load_breakhis, BREAKHIS_DESCRIPTOR),
    "waterbirds": (load_waterbirds, WATERBIRDS_DESCRIPTOR),
    "inaturalist": (load_inaturalist, INATURALIST_DESCRIPTOR),
    "imagefolder": (load_imagefolder, IMAGEFOLDER_DESCRIPTOR),
    "npz": (load_npz, NPZ_DESCRIPTOR),
}.items():
    register_dataset(_name, _loader, _descriptor)


@dataclass(frozen=True)
class Pipeline:
    """Keys every dataset accepts (conf/_dataset.yaml documents them): where the files are,
    and the derived-dataset steps applied after the loader."""

    root: str | None = None
    download: bool = False
    split_seed: Seed = 0
    imbalance: list[PositiveFloat] | None = None
    subset: PositiveInt | None = None
    redundancy: Annotated[float, Range(gt=0, le=1)] | dict | None = None
    noise: Literal["gaussian", "salt_pepper"] | dict | None = None
    test_subset: PositiveInt | None = None
    image_size: PositiveInt | None = None
    resize_mode: Literal["bilinear", "nearest"] = "bilinear"
    normalize: Literal["dataset", "imagenet", "none"] = "dataset"
    augment: Literal["default"] | dict | None = "default"

    def __post_init__(self) -> None:
        check_fields(self, "dataset")


# Keys every dataset accepts; loaders receive those in their signature.
COMMON_KEYS = ("root", "download", "split_seed")
PIPELINE_KEYS = tuple(f.name for f in fields(Pipeline) if f.name not in COMMON_KEYS)
NORMALIZE = ("dataset", "imagenet", "none")
NOISE_KEYS = ("kind", "fraction", "std", "amount", "splits")
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])


def check_dataset(cfg: DictConfig | dict) -> None:
    """The `dataset` group's keys exist for its loader and have the right types and ranges
    (nothing is loaded)."""
    name, options, steps = split_options(cfg)
    Pipeline(**steps, **{k: options[k] for k in COMMON_KEYS if k in options})
    _check_loader_options(name, options)


def split_options(cfg: DictConfig | dict) -> tuple[str, dict, dict]:
    """(name, loader options, pipeline steps) of a `dataset` config; `image_size` goes to a
    loader that takes it."""
    options = (
        OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    )
    name = options.pop("name")
    steps = {k: options.pop(k) for k in PIPELINE_KEYS if k in options}
    if steps.get("image_size") is not None and "image_size" in _loader_params(name):
        options["image_size"] = steps.pop("image_size")
    return name, options, steps


def _loader_params(name: str) -> set[str]:
    return set(inspect.signature(DATASETS.get(name)).parameters)


def _check_loader_options(name: str, options: dict) -> None:
    loader = DATASETS.get(name)
    accepted = _loader_params(name)
    unknown = sorted(set(options) - accepted - set(COMMON_KEYS))
    if unknown:
        valid = sorted(accepted | set(COMMON_KEYS) | set(PIPELINE_KEYS) | {"name"})
        raise ConfigError(
            f"dataset '{name}' got unknown option(s) {', '.join(unknown)}. "
            f"Valid keys: {', '.join(valid)}."
        )
    check_options("dataset", {k: v for k, v in options.items() if k in accepted}, loader)


def _call_loader(name: str, options: dict) -> ALData:
    _check_loader_options(name, options)
    return DATASETS.get(name)(**{k: v for k, v in options.items() if k in _loader_params(name)})


def load_dataset(cfg: DictConfig | dict, validation: int = 0) -> ALData:
    """Load the dataset described by `cfg` and carve `validation` labeled points from the pool.

    The validation points are a stratified sample (seeded by `split_seed`) removed from
    the training pool; a loader's own validation set takes precedence.
    """
    name, options, steps = split_options(cfg)
    seed = int(options.get("split_seed", 0) or 0)
    data = _call_loader(name, options)
    check_loaded(data)
    data.meta.setdefault("train_origin", torch.arange(len(data.y_train)))
    raw = data.meta.pop("raw", False)
    mode = steps.get("normalize") or "dataset"
    if mode not in NORMALIZE:
        raise unknown_choice("dataset.normalize", mode, NORMALIZE)
    if steps.get("image_size") is not None:
        _resize(data, int(steps["image_size"]), steps.get("resize_mode") or "bilinear")
    stats = _stats(data, mode) if raw else None
    _derive(data, steps, seed)
    if stats is not None:
        _normalise(data, *stats)
    _attach_augment(data, steps.get("augment", "default"), stats)
    if validation and data.x_val is None:
        if validation >= len(data):
            raise ConfigError(
                f"budget.validation={validation} is not smaller than the pool ({len(data)})."
            )
        gen = torch.Generator().manual_seed(seed + 1)
        keep, val = stratified_split(data.y_train, int(validation), gen, "budget.validation")
        data.x_val, data.y_val = data.x_train[val], data.y_train[val]
        _take_rows(data, "train", keep)
    check_classes(data)
    return data


def _splits(data: ALData) -> list[str]:
    return [k for k in ("x_train", "x_test", "x_val") if getattr(data, k) is not None]


def _resize(data: ALData, size: int, mode: str) -> None:
    if not data.is_image:
        raise ConfigError("dataset.image_size applies to image datasets only.")
    rows = sum(len(getattr(data, key)) for key in _splits(data))
    check_image_memory("dataset.image_size", size, rows, data.x_train.shape[1])
    for key in _splits(data):
        setattr(data, key, resize(getattr(data, key), size, mode))


def _stats(data: ALData, mode: str) -> tuple[list[float], list[float]] | None:
    """Per-channel (images) or per-feature (tabular) mean/std of the clean training split."""
    if mode == "none":
        return None
    if mode == "imagenet":
        if data.x_train.shape[1] != 3 or not data.is_image:
            raise ConfigError("dataset.normalize=imagenet needs 3-channel images.")
        return IMAGENET
    dims = (0, 2, 3) if data.is_image else (0,)
    std, mean = torch.std_mean(data.x_train, dim=dims)
    return mean.tolist(), std.clamp_min(1e-8).tolist()


def _normalise(data: ALData, mean: list[float], std: list[float]) -> None:
    shape = (1, -1, 1, 1) if data.is_image else (1, -1)
    m, s = torch.tensor(mean).view(shape), torch.tensor(std).view(shape)
    for key in _splits(data):  # in place: the loaders' raw tensors are fresh copies
        getattr(data, key).sub_(m).div_(s)
    data.mean, data.std = list(mean), list(std)


def _derive(data: ALData, steps: dict, seed: int) -> None:
    """The derived-dataset transforms (see `deepal_bench.data.derived`) on raw values."""

    def take(idx: torch.Tensor) -> None:
        _take_rows(data, "train", idx)

    if steps.get("imbalance") is not None:
        take(
            derived.imbalance_indices(
                data.y_train, list(steps["imbalance"]), generator(seed, "imbalance")
            )
        )
    if steps.get("subset") is not None:
        take(
            derived.random_subset(
                len(data), steps["subset"], generator(seed, "subset"), "dataset.subset"
            )
        )
    if steps.get("redundancy") is not None:
        spec = steps["redundancy"]
        spec = spec if isinstance(spec, dict) else {"keep": spec}
        source, x = derived.redundant(
            data.x_train,
            float(spec["keep"]),
            float(spec.get("std", 0.1)),
            generator(seed, "redundancy"),
        )
        take(source)
        data.x_train = x
    if steps.get("noise") is not None:
        _noise(data, steps["noise"], seed)
    if steps.get("test_subset") is not None:
        idx = derived.random_subset(
            len(data.y_test),
            steps["test_subset"],
            generator(seed, "test_subset"),
            "dataset.test_subset",
        )
        _take_rows(data, "test", idx)


def _noise(data: ALData, spec: dict | str, seed: int) -> None:
    spec = {"kind": spec} if isinstance(spec, str) else dict(spec)
    unknown = sorted(set(spec) - set(NOISE_KEYS))
    if unknown:
        raise ConfigError(
            f"Unknown dataset.noise key(s) {', '.join(unknown)}. "
            f"Valid keys: {', '.join(NOISE_KEYS)}."
        )
    splits = spec.pop("splits", ["train"])
    for split in splits:
        if split not in ("train", "test", "val"):
            raise unknown_choice("dataset.noise.splits", split, ("train", "test", "val"))
        key = f"x_{split}"
        if getattr(data, key) is None:
            continue
        chosen, x = derived.add_noise(
            getattr(data, key),
            spec.get("kind", "gaussian"),
            float(spec.get("fraction", 0.1)),
            generator(seed, "noise", split),
            std=float(spec.get("std", 1.0)),
            amount=float(spec.get("amount", 0.05)),
        )
        setattr(data, key, x)
        mask = torch.zeros(len(x), dtype=torch.bool)
        mask[chosen] = True
        data.meta[f"noisy_{split}"] = mask


def _take_rows(data: ALData, split: str, idx: torch.Tensor) -> None:
    """Keep rows `idx` of a split, with its labels, groups and per-row metadata."""
    for key in (f"x_{split}", f"y_{split}", f"groups_{split}"):
        if getattr(data, key, None) is not None:
            setattr(data, key, getattr(data, key)[idx])
    for key in (f"{split}_origin", f"noisy_{split}"):
        if key in data.meta:
            data.meta[key] = data.meta[key][idx]


def _attach_augment(data: ALData, spec, stats) -> None:
    default = data.meta.pop("augment", None)
    if spec == "default":
        spec = default
    if spec and not data.is_image:
        raise ConfigError("dataset.augment applies to image datasets only; set it to null.")
    if spec:
        mean, std = stats if stats is not None else ([0.0] * data.x_train.shape[1], None)
        data.augment = build_augment(dict(spec), mean, std or [1.0] * len(mean))
        data.meta["augment"] = dict(spec)
