"""The dataset catalogue: `dataset.name` -> loader, and validation-split carving.

A loader is called with the keys of the `dataset` config group (minus `name` and the
keys consumed here) and returns an ALData.
"""

from collections.abc import Callable
from functools import partial

import torch
from omegaconf import DictConfig, OmegaConf

from deepal_bench.data.bundled import TABULAR_NAMES, load_digits, load_tabular
from deepal_bench.data.dataset import ALData
from deepal_bench.data.splits import stratified_split
from deepal_bench.errors import ConfigError
from deepal_bench.registry import Registry

DATASETS: Registry[Callable[..., ALData]] = Registry("dataset.name")
DATASETS.register("digits")(load_digits)
for _name in TABULAR_NAMES:
    DATASETS.register(_name)(partial(load_tabular, _name))


def load_dataset(cfg: DictConfig | dict, validation: int = 0) -> ALData:
    """Load the dataset described by `cfg` and carve `validation` labeled points from the pool.

    The validation points are a stratified sample (seeded by `split_seed`) removed from
    the training pool; a loader's own validation set takes precedence.
    """
    options = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    name = options.pop("name")
    loader = DATASETS.get(name)
    try:
        data = loader(**options)
    except TypeError as err:
        raise ConfigError(f"dataset '{name}' got an unexpected option: {err}") from err
    if validation and data.x_val is None:
        if validation >= len(data):
            raise ConfigError(
                f"budget.validation={validation} is not smaller than the pool ({len(data)})."
            )
        gen = torch.Generator().manual_seed(int(options.get("split_seed", 0)) + 1)
        keep, val = stratified_split(data.y_train, int(validation), gen)
        data.x_val, data.y_val = data.x_train[val], data.y_train[val]
        data.x_train, data.y_train = data.x_train[keep], data.y_train[keep]
    return data
