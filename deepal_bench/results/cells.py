"""Cell keys: the settings that make a cell of pooled runs, as data.

A cell is the runs of one strategy on one setting whose trials are pooled. Its `CellKey`
holds the settings every table groups by (dataset, model with its stem and pre-training,
budget, trainer epochs, strategy, estimator, selection) and, as options beside them, every
other config key whose value differs between the runs collected: the dataset's (e.g.
`redundancy.keep`, RepeatedMNIST's share of unique images), the model's, the strategy's
(e.g. `mc_passes`) and any other (`other`, e.g. `trainer.lr`). A dataset, model or strategy
option counts as differing among the runs of the same dataset, model or strategy name.
Two runs get the same key exactly when their configs agree (apart from the keys that never
split a cell, `results.records.POOLING_IGNORED_KEYS`). Labels are rendered from keys by the
report, at output; nothing parses them back.
"""

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass

Options = tuple[tuple[str, Hashable], ...]
NAMED_SECTIONS = ("dataset", "model", "strategy")  # options scoped by the section's name
MAIN_KEYS = (
    "dataset.name",
    "model.name",
    "model.stem",
    "model.pretrained",
    "budget.initial",
    "budget.batch",
    "budget.quota",
    "trainer.epochs",
    "strategy.name",
    "estimator.name",
    "selection.name",
)


@dataclass(frozen=True)
class DatasetKey:
    name: str
    options: Options = ()


@dataclass(frozen=True)
class ModelKey:
    name: str
    stem: str | None = None
    pretrained: bool = False
    options: Options = ()


@dataclass(frozen=True)
class BudgetKey:
    initial: int
    batch: int
    quota: int


@dataclass(frozen=True)
class StrategyKey:
    name: str
    options: Options = ()


@dataclass(frozen=True)
class CellKey:
    """What a cell's runs share: the settings tables group by and the differing options."""

    dataset: DatasetKey
    model: ModelKey
    budget: BudgetKey
    epochs: int | None
    strategy: StrategyKey
    estimator: str
    selection: str
    other: Options = ()

    @property
    def is_full_data(self) -> bool:
        """A reference run without acquisition (budget.quota = 0), e.g. DeepAL+'s "Full"."""
        return self.budget.quota == 0

    def setting(self) -> dict[str, Hashable]:
        """The settings apart from the strategy, as dotted config keys."""
        d, m, b = self.dataset, self.model, self.budget
        return {
            "dataset.name": d.name,
            **dict(d.options),
            "model.name": m.name,
            "model.stem": m.stem,
            "model.pretrained": m.pretrained,
            **dict(m.options),
            "budget.initial": b.initial,
            "budget.batch": b.batch,
            "budget.quota": b.quota,
            "trainer.epochs": self.epochs,
            "estimator.name": self.estimator,
            "selection.name": self.selection,
            **dict(self.other),
        }

    def strategy_settings(self) -> dict[str, Hashable]:
        return {"strategy.name": self.strategy.name, **dict(self.strategy.options)}

    def settings(self) -> dict[str, Hashable]:
        """Every setting of the key as dotted config keys."""
        return {**self.setting(), **self.strategy_settings()}

    def sort_key(self) -> tuple[str, ...]:
        return tuple(f"{key}={value!r}" for key, value in self.settings().items())


def freeze(value: object) -> Hashable:
    """A hashable copy of a config value: lists as tuples, mappings as sorted item tuples."""
    if isinstance(value, dict):
        return tuple(sorted((str(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def leaves(config: dict, prefix: str = "") -> dict[str, Hashable]:
    """The dotted keys of a nested mapping's leaves (a None or an empty mapping is a leaf)."""
    out: dict[str, Hashable] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(leaves(value, f"{name}."))
        else:
            out[name] = freeze(value)
    return out


def flat_settings(config: dict) -> dict[str, object]:
    """Every dotted key of a nested mapping, inner levels included: `dataset.noise` holds
    the whole noise mapping (or None) and `dataset.noise.kind` its kind."""
    out: dict[str, object] = {}
    for key, value in config.items():
        out[str(key)] = value
        if isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in flat_settings(value).items()})
    return out


def _section(key: str) -> str:
    return key.split(".", 1)[0]


def _scope(key: str, config: dict[str, Hashable]) -> tuple:
    section = _section(key)
    return (section, config.get(f"{section}.name")) if section in NAMED_SECTIONS else ("",)


def varying_keys(configs: list[dict[str, Hashable]]) -> set[str]:
    """Leaf keys whose value (or presence) differs between configs of the same scope."""
    members: dict[tuple, int] = defaultdict(int)
    values: dict[tuple, list] = defaultdict(list)
    for config in configs:
        for scope in {_scope(key, config) for key in config}:
            members[scope] += 1
        for key, value in config.items():
            values[(_scope(key, config), key)].append(value)
    return {
        key
        for (scope, key), seen in values.items()
        if len(seen) < members[scope] or len(set(seen)) > 1
    }


def _options(config: dict[str, Hashable], varying: set[str], section: str | None) -> Options:
    """The varying keys of `section` (None: of the sections without options of their own)."""

    def belongs(key: str) -> bool:
        return _section(key) == section if section else _section(key) not in NAMED_SECTIONS

    chosen = [k for k in config if k in varying and k not in MAIN_KEYS and belongs(k)]
    return tuple(sorted((k, config[k]) for k in chosen))


def _int(value: object) -> int | None:
    return None if value is None else int(value)


def key_of(config: dict[str, Hashable], varying: set[str]) -> CellKey:
    """The key of one run's leaves, `varying` the keys that differ across the collection."""
    c = config
    return CellKey(
        dataset=DatasetKey(str(c.get("dataset.name")), _options(c, varying, "dataset")),
        model=ModelKey(
            str(c.get("model.name")),
            c.get("model.stem"),
            bool(c.get("model.pretrained")),
            _options(c, varying, "model"),
        ),
        budget=BudgetKey(*(int(c[f"budget.{k}"]) for k in ("initial", "batch", "quota"))),
        epochs=_int(c.get("trainer.epochs")),
        strategy=StrategyKey(str(c.get("strategy.name")), _options(c, varying, "strategy")),
        estimator=str(c.get("estimator.name")),
        selection=str(c.get("selection.name")),
        other=_options(c, varying, None),
    )


def cell_keys(configs: list[dict]) -> list[CellKey]:
    """One key per (resolved, nested) config; equal keys exactly for equal configs."""
    flat = [leaves(config) for config in configs]
    varying = varying_keys(flat)
    return [key_of(config, varying) for config in flat]


def common_settings(settings: list[dict[str, object]]) -> dict[str, object]:
    """The settings every one of `settings` shares with the same value (an aggregate's)."""
    if not settings:
        return {}
    first, *rest = settings
    return {k: v for k, v in first.items() if all(k in s and s[k] == v for s in rest)}
