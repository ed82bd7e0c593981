"""A dataset's sizes as `load_dataset` would give them, without loading it: the registered
descriptor of its loader (options not given take the loader's defaults), then the pipeline
steps of `data.catalogue` that change sizes, in the same order: `image_size` (shape),
`imbalance` (an estimate: classes are taken as balanced), `subset`, `test_subset`, and the
`budget.validation` points carved from the pool when the loader ships no validation set
(`redundancy` and `noise` keep every size).

`sizes_table` renders the size table of docs/datasets.md from the same descriptors.
"""

import inspect
import math
from collections.abc import Iterable

from omegaconf import DictConfig

from deepal_bench.data.catalogue import DATASETS, DESCRIPTORS, split_options
from deepal_bench.data.descriptor import Sizes, Unknown, square
from deepal_bench.errors import ConfigError


def with_loader_defaults(name: str, options: dict) -> dict:
    """`options` over the defaults of dataset `name`'s loader signature."""
    parameters = inspect.signature(DATASETS.get(name)).parameters.values()
    defaults = {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}
    return {**defaults, **options}


def variant_name(name: str, options: dict) -> str:
    """Dataset `name` as papers name it with `options` (its descriptor's `variant_name`,
    e.g. MedMNIST's flag), else `name`; an unregistered name is returned as it is."""
    descriptor = DESCRIPTORS.get(name) if name in DATASETS else None
    if descriptor is None or descriptor.variant_name is None:
        return name
    return str(descriptor.variant_name(with_loader_defaults(name, options)))


def dataset_sizes(cfg: DictConfig | dict, validation: int = 0) -> Sizes | Unknown:
    """The shape, classes and split sizes of the `dataset` config `cfg` with `validation`
    labeled points held out of the pool (see the module doc)."""
    name, options, steps = split_options(cfg)
    descriptor = DESCRIPTORS.get(name)
    if descriptor is None:
        DATASETS.get(name)  # an unknown name is a ConfigError listing the choices
        return Unknown(f"dataset '{name}' is registered without a descriptor")
    sizes = descriptor.sizes(with_loader_defaults(name, options))
    if isinstance(sizes, Unknown):
        return sizes
    return _after_pipeline(sizes, steps, validation)


def _after_pipeline(sizes: Sizes, steps: dict, validation: int) -> Sizes:
    shape, train, test = sizes.input_shape, sizes.train, sizes.test
    approximate, val = sizes.approximate, sizes.val
    if steps.get("image_size") and len(shape) == 3:
        shape = square(shape[0], steps["image_size"])
    if steps.get("imbalance"):  # class c keeps floor(n_c r_c / max r)
        ratios = list(steps["imbalance"])
        train = sum(math.floor(train / len(ratios) * r / max(ratios)) for r in ratios)
        approximate = True
    if steps.get("subset"):
        train = min(train, int(steps["subset"]))
    if steps.get("test_subset"):
        test = min(test, int(steps["test_subset"]))
    if validation and not val:
        if validation >= train and not approximate:
            raise ConfigError(
                f"budget.validation={validation} is not smaller than the pool ({train})."
            )
        train, val = train - validation, validation
    return Sizes(shape, train, test, sizes.classes, val, approximate)


# -- the size table of docs/datasets.md ----------------------------------------------------

TABLE_HEADER = (
    "| `dataset=` | input | train pool | validation | test | classes |",
    "|---|---|---|---|---|---|",
)


def catalogue_rows(choices: dict[str, dict]) -> list[tuple[str, dict]]:
    """(label, options) per `dataset=` choice (its composed options), each followed by the
    variants its descriptor lists when the choice is the dataset's own YAML."""
    rows = []
    for choice, options in sorted(choices.items()):
        rows.append((f"`{choice}`", options))
        if choice != options["name"]:
            continue
        for variant in DESCRIPTORS[options["name"]].variants:
            if any(options.get(k) != v for k, v in variant.items()):
                words = " ".join(f"{k}={v}" for k, v in variant.items())
                rows.append((f"`{choice}` {words}", {**options, **variant}))
    return rows


def _count(n: int, approximate: bool = False) -> str:
    return ("~" if approximate else "") + f"{n:,}"


def _row(label: str, options: dict) -> str:
    descriptor = DESCRIPTORS[options["name"]]
    if descriptor.from_files:
        return f"| {label} | {descriptor.from_files} | | | | |"
    sizes = dataset_sizes(options)
    if isinstance(sizes, Unknown):
        return f"| {label} | unknown: {sizes.reason} | | | | |"
    shape = "x".join(map(str, sizes.input_shape))
    val = _count(sizes.val) if sizes.val else "–"
    return (
        f"| {label} | {shape} | {_count(sizes.train, sizes.approximate)} | {val} | "
        f"{_count(sizes.test)} | {_count(sizes.classes)} |"
    )


def sizes_table(rows: Iterable[tuple[str, dict]]) -> str:
    """The Markdown size table for (label, dataset options) rows."""
    return "\n".join([*TABLE_HEADER, *(_row(label, options) for label, options in rows)])
