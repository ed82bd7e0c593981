"""What every paper family shares: cell configs and labels, the output units, skips.

A family module (deepal_plus, ralif, falcun, dmle, constrained) defines

- `BUILDERS`: (what, function) pairs; each function takes a `Context` and returns the
  `Table`s / `Figure`s of one published table or figure, or raises `Missing` with a short
  reason when the records cannot give it;
- `ours(context)`: our numbers as long rows (setting, strategy, dataset, batch, n_labeled,
  metric, ours_mean, ours_std, trials, config) for `paper.compare`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from deepal_bench.report import tables
from deepal_bench.report.build import Records
from deepal_bench.report.paper import PAPER_DIR, dataset_label, flat_config, model_label
from deepal_bench.results.collect import POOLING_IGNORED_KEYS, Cell, trial_table
from deepal_bench.results.identity import differing_keys

LONG_COLUMNS = [
    "setting",
    "strategy",
    "dataset",
    "batch",
    "n_labeled",
    "metric",
    "ours_mean",
    "ours_std",
    "trials",
    "config",
]


class Missing(Exception):
    """The records cannot give this table; the message says what is missing."""


@dataclass
class Table:
    """One table: `data` (full precision CSV) and `display` (Markdown / LaTeX cells)."""

    name: str
    title: str
    data: pd.DataFrame
    display: pd.DataFrame | None = None
    digits: int = 4
    notes: list[str] = field(default_factory=list)


@dataclass
class Figure:
    """A figure drawn into the output folder; `draw(out)` returns the written paths."""

    name: str
    title: str
    draw: Callable[[Path], list[Path]]


@dataclass
class Options:
    baseline: str = "random"
    margin: float = 0.005
    alpha: float = 0.05
    reference: str = "ralif"
    permutations: int = 10_000
    n_labeled: int = 100
    figures: bool = True
    paper_dir: Path = PAPER_DIR


def _cell_rows(cells: list[Cell]) -> list[dict[str, object]]:
    rows = []
    for cell in cells:
        config = flat_config(cell.config)
        rows.append(
            {
                "setting": cell.setting,
                "strategy": cell.strategy,
                "base_strategy": cell.strategy.split(" [")[0],
                "dataset": dataset_label(config),
                "model": model_label(config),
                "pretrained": bool(config.get("model.pretrained")),
                "batch": int(config.get("budget.batch")),
                "initial": int(config.get("budget.initial")),
                "quota": int(config.get("budget.quota")),
                "config": config,
            }
        )
    return rows


def cell_table(cells: list[Cell]) -> pd.DataFrame:
    """One row per (setting, strategy) cell: labels, budget and the flat config."""
    columns = [
        "setting",
        "strategy",
        "base_strategy",
        "dataset",
        "model",
        "pretrained",
        "batch",
        "initial",
        "quota",
        "config",
    ]
    return pd.DataFrame(_cell_rows(cells), columns=columns)


def _identity(config: dict[str, object]) -> dict[str, object]:
    """The nested config without the strategy and the keys that never split a setting."""
    nested = {k: v for k, v in config.items() if "." not in k}
    return {k: v for k, v in nested.items() if k not in (*POOLING_IGNORED_KEYS, "strategy")}


def variant_suffix(frame: pd.DataFrame, by: str, ignore: tuple[str, ...] = ()) -> pd.Series:
    """Per row, the config keys (with this row's values) that tell its setting apart from
    the other settings sharing the same `by` label, as ` [key=value, ...]`; '' if none.
    Keys in `ignore` (and below them) are not named."""
    suffix = pd.Series("", index=frame.index)
    for _, part in frame.groupby(by, sort=False):
        settings = part.drop_duplicates("setting")
        if len(settings) < 2:
            continue
        identities = [_identity(c) for c in settings["config"]]
        keys = sorted({k for other in identities[1:] for k in differing_keys(identities[0], other)})
        keys = [k for k in keys if not any(k == i or k.startswith(f"{i}.") for i in ignore)]
        for index, row in part.iterrows():
            values = ", ".join(f"{k}={row['config'].get(k)}" for k in keys)
            suffix[index] = f" [{values}]" if keys else ""
    return suffix


@dataclass
class Context:
    """The pooled records of one family command and its options."""

    records: Records
    options: Options
    published: pd.DataFrame

    @cached_property
    def cells(self) -> pd.DataFrame:
        return cell_table(self.records.cells)

    @cached_property
    def full_cells(self) -> pd.DataFrame:
        return cell_table(self.records.full_cells)

    @cached_property
    def overall(self) -> pd.DataFrame:
        """`tables.overall_table` with the cells' labels and configs joined on."""
        if self.records.trials.empty:
            raise Missing("no complete run")
        overall = tables.overall_table(
            self.records.trials, self.records.rounds, self.options.baseline
        )
        labels = self.cells.drop(columns=["batch", "model"]).rename(columns={"dataset": "label"})
        return overall.merge(labels, on=["setting", "strategy"], how="left")

    @cached_property
    def full_trials(self) -> pd.DataFrame:
        """One row per trial of the reference runs without acquisition (budget.quota = 0)."""
        trials = trial_table(self.records.full_cells)
        if trials.empty:
            return trials
        return trials.merge(
            self.full_cells[["setting", "strategy", "config"]], on=["setting", "strategy"]
        )


def variant_rows(
    frame: pd.DataFrame, method: str, by: str, baseline: str, varied_keys: str
) -> pd.DataFrame:
    """Rows of the `by` groups (scenario, dataset) in which runs of `method` differ in its
    options, plus the baseline's rows there: the layout of a paper's ablation table."""
    runs = frame[frame["base_strategy"] == method]
    varied = runs.groupby(by)["strategy"].nunique()
    groups = varied[varied > 1].index
    if groups.empty:
        raise Missing(f"needs '{method}' runs of one {by} that differ in {varied_keys}")
    keep = frame[by].isin(groups) & frame["base_strategy"].isin([method, baseline])
    return frame[keep]


def ordered(names, order: list[str]) -> list[str]:
    """`names` in the paper's `order` (by base name), the others after them, sorted."""
    names = list(dict.fromkeys(names))
    rank = {name: k for k, name in enumerate(order)}
    return sorted(names, key=lambda n: (rank.get(n.split(" [")[0], len(order)), n))


def long_rows(
    frame: pd.DataFrame, metric: str, mean: str, std: str | None = None, **columns: object
) -> pd.DataFrame:
    """Long rows of one metric from a frame with setting, strategy, label, batch, trials and
    config columns (`columns` overrides any of them, e.g. n_labeled=100)."""
    if frame.empty:
        return pd.DataFrame(columns=LONG_COLUMNS)
    out = pd.DataFrame(
        {
            "setting": frame["setting"],
            "strategy": frame["strategy"],
            "dataset": frame["label"] if "label" in frame else frame["dataset"],
            "batch": frame.get("batch"),
            "n_labeled": frame.get("n_labeled"),
            "metric": metric,
            "ours_mean": frame[mean],
            "ours_std": frame[std] if std else np.nan,
            "trials": frame.get("trials"),
            "config": frame.get("config"),
        }
    )
    for key, value in columns.items():
        out[key] = value
    return out[LONG_COLUMNS]
