"""The top-level run settings and the check of a whole composed config before a run.

`validate_config` checks every key of every group against its schema (see
`deepal_bench.typed`) without loading data or building a model, so a wrong type or
range is refused before anything is written. What needs the data (the budget against the
pool size, a strategy against the model) is checked next, by `loop.Experiment`, still
before any record is written.
"""

from dataclasses import dataclass
from typing import Annotated, Literal

from omegaconf import DictConfig, OmegaConf

from deepal_bench.data.catalogue import check_dataset
from deepal_bench.models import check_model
from deepal_bench.results.lock import LEASE_MAX, LEASE_MIN
from deepal_bench.run.budget import Budget
from deepal_bench.selection import SELECTIONS
from deepal_bench.strategies import STRATEGIES
from deepal_bench.training.estimators import ESTIMATORS
from deepal_bench.training.trainer import TrainerConfig
from deepal_bench.typed import PositiveInt, Range, build_dataclass, check_fields

# The lease of a run's lock, seconds: finite; long enough to renew it (10 heartbeats per
# lease), at most a day. On NFS it must also exceed the attribute-cache time (docs/records.md).
LockTimeout = Annotated[float, Range(ge=LEASE_MIN, le=LEASE_MAX)]

GROUPS = ("dataset", "model", "strategy", "estimator", "selection", "budget", "trainer")


@dataclass(frozen=True)
class RunSettings:
    """The top-level keys of conf/config.yaml (documented there)."""

    trials: PositiveInt
    seed: int
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


def top_level(cfg: DictConfig) -> dict:
    """The top-level keys (no group, no `hydra`); an unresolved default output_dir (only
    Hydra can resolve it) is left out."""
    keys = [k for k in cfg if k not in GROUPS and k != "hydra"]
    if "output_dir" in keys and OmegaConf.is_interpolation(cfg, "output_dir"):
        keys.remove("output_dir")
    return {k: OmegaConf.select(cfg, k) for k in keys}


def validate_config(cfg: DictConfig) -> RunSettings:
    """Every group's keys and the top-level keys have their types and ranges."""
    settings = build_dataclass("", RunSettings, top_level(cfg))
    build_dataclass("budget", Budget, cfg.budget)
    build_dataclass("trainer", TrainerConfig, cfg.trainer)
    for registry, group in (
        (STRATEGIES, "strategy"), (SELECTIONS, "selection"), (ESTIMATORS, "estimator"),
    ):  # fmt: skip
        registry.check(cfg[group])
    check_model(cfg.model)
    check_dataset(cfg.dataset)
    return settings
