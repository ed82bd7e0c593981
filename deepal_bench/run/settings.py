"""The validated settings of a composed config: what the loop reads.

`validate_config` checks every key of every group against its schema (see
`deepal_bench.typed`) without loading data or building a model, so a wrong type or
range is refused before anything is written, and returns the result as typed objects
(`Settings`): the top-level `RunSettings`, the `Budget`, the `TrainerConfig`, and for the
dataset, model, strategy, estimator and selection a `Choice` (the name and the checked
options as plain data). The loop reads these, never the raw config; the raw config is what
`config.yaml` stores and what the run's identity hashes. What needs the data (the budget
against the pool size, a strategy against the model) is checked next, by
`loop.Experiment`, still before any record is written.

A group may name a user's own class or factory by import path, Hydra's idiom:
`_target_: my_package.MyStrategy` beside `name: mine`. It is imported, checked against
the group's base (`PLUGGABLE`) and registered under `name` (`Registry.adopt`), then
validated like a built-in; the options passed on never include `_target_`.
"""

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from omegaconf import DictConfig, OmegaConf

from deepal_bench.data import DATASETS, ALData
from deepal_bench.data.catalogue import check_dataset
from deepal_bench.errors import ConfigError
from deepal_bench.models import MODELS, ALModel, check_model
from deepal_bench.registry import TARGET, Registry
from deepal_bench.results.lock import LEASE_MAX, LEASE_MIN
from deepal_bench.run.budget import Budget
from deepal_bench.run.placement import available_cores
from deepal_bench.run.tracking import check_logger
from deepal_bench.selection import SELECTIONS, Selection
from deepal_bench.strategies import STRATEGIES, Strategy
from deepal_bench.training.estimators import ESTIMATORS, Estimator
from deepal_bench.training.trainer import TrainerConfig
from deepal_bench.typed import (
    SEED_LIMIT,
    PositiveInt,
    Range,
    Seed,
    build_dataclass,
    check_fields,
    check_value,
)

# The lease of a run's lock, seconds: finite; long enough to renew it (10 heartbeats per
# lease), at most a day. On NFS it must also exceed the attribute-cache time (docs/records.md).
LockTimeout = Annotated[float, Range(ge=LEASE_MIN, le=LEASE_MAX)]

GROUPS = (
    "dataset", "model", "strategy", "estimator", "selection", "budget", "trainer", "logger",
)  # fmt: skip
THREADS_PER_CORE = 4  # more torch threads than this per usable core only slows a job down


@dataclass(frozen=True)
class RunSettings:
    """The top-level keys of conf/config.yaml (documented there)."""

    trials: PositiveInt
    seed: Seed
    device: Literal["auto", "cpu", "cuda"]
    threads: PositiveInt | Literal["auto"] | None
    lock_timeout: LockTimeout
    deterministic: bool
    progress: bool
    store_predictions: bool
    results_root: str
    output_dir: str | None = None

    def __post_init__(self) -> None:
        check_fields(self, "")
        last = SEED_LIMIT - self.trials
        if self.seed > last:
            raise ConfigError(
                f"Invalid seed={self.seed} with trials={self.trials}: trial t uses seed + t, "
                f"which must stay below {SEED_LIMIT} (2^32; larger seeds would repeat smaller "
                f"ones), so seed must be at most {last}."
            )
        most = THREADS_PER_CORE * available_cores()
        if isinstance(self.threads, int) and self.threads > most:
            raise ConfigError(
                f"Invalid threads={self.threads}: it must be auto, null or an integer from 1 "
                f"to {most} ({THREADS_PER_CORE} per core this process may use: "
                f"{available_cores()})."
            )


def top_level(cfg: DictConfig) -> dict:
    """The top-level keys (no group, no `hydra`); an unresolved default output_dir (only
    Hydra can resolve it) is left out."""
    keys = [k for k in cfg if k not in GROUPS and k != "hydra"]
    if "output_dir" in keys and OmegaConf.is_interpolation(cfg, "output_dir"):
        keys.remove("output_dir")
    return {k: OmegaConf.select(cfg, k) for k in keys}


@dataclass(frozen=True)
class Choice:
    """The validated choice of one config group: its name and its checked options as
    plain data, in the form the group's build function takes (`config()`)."""

    name: str
    options: Mapping[str, Any]

    def config(self) -> dict:
        """`{"name": name, **options}`, a fresh copy."""
        return {"name": self.name, **copy.deepcopy(dict(self.options))}


@dataclass(frozen=True)
class Settings:
    """Every group of a composed config, validated and typed."""

    run: RunSettings
    budget: Budget
    trainer: TrainerConfig
    strategy: Choice
    selection: Choice
    estimator: Choice
    model: Choice
    dataset: Choice


# Group -> its registry, the base class a `_target_` must produce, and the check of its
# options (in the order the groups are checked).
PLUGGABLE: dict[str, tuple[Registry, type, Callable[[dict], object]]] = {
    "strategy": (STRATEGIES, Strategy, STRATEGIES.check),
    "selection": (SELECTIONS, Selection, SELECTIONS.check),
    "estimator": (ESTIMATORS, Estimator, ESTIMATORS.check),
    "model": (MODELS, ALModel, check_model),
    "dataset": (DATASETS, ALData, check_dataset),
}


def choose(group: str, cfg: DictConfig | dict) -> Choice:
    """The validated choice of `group` (a `_target_` adopted into its registry first)."""
    options = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    options = dict(options)
    if "name" not in options:
        raise ConfigError(f"The {group} group has no name; set {group}.name.")
    name = options.pop("name")
    check_value(f"{group}.name", name, str)
    registry, base, check = PLUGGABLE[group]
    if TARGET in options:
        target = options.pop(TARGET)
        check_value(f"{group}.{TARGET}", target, str)
        registry.adopt(name, target, base)
    check({"name": name, **options})
    return Choice(name, options)


def validate_config(cfg: DictConfig) -> Settings:
    """Every group's keys and the top-level keys have their types and ranges; the result
    as typed settings."""
    run = build_dataclass("", RunSettings, top_level(cfg))
    budget = build_dataclass("budget", Budget, cfg.budget)
    trainer = build_dataclass("trainer", TrainerConfig, cfg.trainer)
    choices = {group: choose(group, cfg[group]) for group in PLUGGABLE}
    check_logger(cfg)
    return Settings(run, budget, trainer, **choices)
