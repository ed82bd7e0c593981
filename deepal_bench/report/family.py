"""What every report family shares: options, the records with their labels, the items.

A family (`report.families`: the generic report and one per paper) is a `Family`: named
builders, each a function of a `Context` that returns the `Table`s and `Figure`s of one
table or figure, or raises `Missing` with a short reason when the records cannot give it
(any other exception is a bug and surfaces); and `ours(context)`, our numbers as long rows
(`published.LONG_COLUMNS`) for the exact matching against the published cells of the
family's papers. `report.pipeline.run_family` writes them all.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from deepal_bench.report import tables
from deepal_bench.report.labels import (
    Labels,
    dataset_display_name,
    differing_settings,
    label_cells,
    model_label,
    settings_suffix,
)
from deepal_bench.report.published import LONG_COLUMNS, PAPER_DIR
from deepal_bench.results.collect import DUPLICATE, Skipped
from deepal_bench.results.records import Cell, Records, round_table, trial_table

INTERNAL_COLUMNS = ("key", "config")  # structured columns; never written to a file


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
    """A figure drawn into the output folder; `draw(out)` returns the written paths. A
    figure of one setting names its label (the HTML index shows it in that setting's
    section)."""

    name: str
    title: str
    draw: Callable[[Path], list[Path]]
    setting: str | None = None


class Drawn(NamedTuple):
    """A figure as written: its title, its files (PNG, PDF) and its setting if it has one."""

    title: str
    paths: list[Path]
    setting: str | None = None


@dataclass
class Options:
    baseline: str = "random"
    group_by: tuple[str, ...] | None = None
    margin: float = 0.005
    alpha: float = 0.05
    reference: str | None = None  # the permutation tests' reference (None: the baseline)
    permutations: int = 10_000
    n_labeled: int = 100
    figures: bool = True
    paper_dir: Path = PAPER_DIR

    @property
    def reference_strategy(self) -> str:
        return self.reference or self.baseline


def _labelled(frame: pd.DataFrame, labels: Labels) -> pd.DataFrame:
    """`frame` with the setting and strategy labels of its `key` column in its place."""
    if frame.empty:
        return pd.DataFrame(
            columns=["setting", "strategy", *frame.columns.drop("key", errors="ignore")]
        )
    out = frame.drop(columns="key")
    out.insert(0, "strategy", frame["key"].map(labels.strategy))
    out.insert(0, "setting", frame["key"].map(labels.setting))
    return out


CELL_COLUMNS = [
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
    "key",
]


def cell_table(cells: list[Cell], labels: Labels) -> pd.DataFrame:
    """One row per cell: labels, strategy name, dataset and model names, budget, settings."""
    rows = [
        {
            "setting": labels.setting[c.key],
            "strategy": labels.strategy[c.key],
            "base_strategy": c.key.strategy.name,
            "dataset": dataset_display_name(c.settings),
            "model": model_label(c.settings),
            "pretrained": c.key.model.pretrained,
            "batch": c.key.budget.batch,
            "initial": c.key.budget.initial,
            "quota": c.key.budget.quota,
            "config": c.settings,
            "key": c.key,
        }
        for c in cells
    ]
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


@dataclass
class Context:
    """The pooled records of one report command, their labels and the command's options."""

    records: Records
    options: Options
    published: pd.DataFrame

    @cached_property
    def labels(self) -> Labels:
        return label_cells(self.records.all_cells, self.options.group_by)

    @cached_property
    def trials(self) -> pd.DataFrame:
        """One row per (setting, strategy, trial) of the cells with acquisition."""
        return _labelled(trial_table(self.records.cells), self.labels)

    @cached_property
    def rounds(self) -> pd.DataFrame:
        """One row per (setting, strategy, trial, round), every rounds.csv column."""
        return _labelled(round_table(self.records.cells), self.labels)

    @cached_property
    def cells(self) -> pd.DataFrame:
        return cell_table(self.records.cells, self.labels)

    @cached_property
    def full_cells(self) -> pd.DataFrame:
        return cell_table(self.records.full_cells, self.labels)

    @property
    def labelled_cells(self) -> list[tuple[str, str, Cell]]:
        """(setting, strategy, cell) of every cell with acquisition."""
        return [
            (self.labels.setting[c.key], self.labels.strategy[c.key], c) for c in self.records.cells
        ]

    @cached_property
    def overall(self) -> pd.DataFrame:
        """`tables.overall_table` with the cells' labels and settings joined on."""
        if self.trials.empty:
            raise Missing("no complete run with acquisition")
        overall = tables.overall_table(self.trials, self.rounds, self.options.baseline)
        labels = self.cells.drop(columns=["batch", "model"]).rename(columns={"dataset": "label"})
        return overall.merge(labels, on=["setting", "strategy"], how="left")

    @cached_property
    def full_trials(self) -> pd.DataFrame:
        """One row per trial of the reference runs without acquisition (budget.quota = 0)."""
        trials = _labelled(trial_table(self.records.full_cells), self.labels)
        if trials.empty:
            return trials
        columns = ["setting", "strategy", "config", "key"]
        return trials.merge(self.full_cells[columns], on=["setting", "strategy"])


Builder = Callable[[Context], list[Table | Figure]]


@dataclass(frozen=True)
class Family:
    """A report family: its tables and figures, and our rows for the paper comparison."""

    name: str
    title: str
    builders: tuple[tuple[str, Builder], ...]
    ours: Callable[[Context], pd.DataFrame]
    versus_name: str
    papers: tuple[str, ...] | None = None  # the published papers compared (None: all)


def variant_suffix(frame: pd.DataFrame, by: str, ignore: tuple[str, ...] = ()) -> pd.Series:
    """Per row, the setting keys (with this row's values) that tell its cell apart from the
    others sharing the same `by` label, as ` [key=value, ...]`; '' if none. Keys in
    `ignore` (and below them) are not named."""
    suffix = pd.Series("", index=frame.index)
    for _, part in frame.groupby(by, sort=False):
        settings = [key.setting() for key in part["key"]]
        keys = [
            k
            for k in differing_settings(settings)
            if not any(k == i or k.startswith(f"{i}.") for i in ignore)
        ]
        suffix[part.index] = [settings_suffix(s, keys) for s in settings]
    return suffix


def variant_rows(
    frame: pd.DataFrame, method: str, by: str, baseline: str, varied_keys: str
) -> pd.DataFrame:
    """Rows of the `by` groups (scenario, dataset) in which cells of `method` differ in its
    options, plus the baseline's rows there: the layout of a paper's ablation table."""
    runs = frame[frame["base_strategy"] == method]
    varied = runs.groupby(by)["strategy"].nunique()
    groups = varied[varied > 1].index
    if groups.empty:
        raise Missing(f"needs '{method}' runs of one {by} that differ in {varied_keys}")
    keep = frame[by].isin(groups) & frame["base_strategy"].isin([method, baseline])
    return frame[keep]


def ordered(frame: pd.DataFrame, order: list[str]) -> list[str]:
    """The strategy labels of `frame` in the paper's `order` of their strategy names, the
    others after them, sorted."""
    names = dict(zip(frame["strategy"], frame["base_strategy"], strict=True))
    rank = {name: k for k, name in enumerate(order)}
    return sorted(names, key=lambda label: (rank.get(names[label], len(order)), label))


def long_rows(
    frame: pd.DataFrame, metric: str, mean: str, std: str | None = None, **columns: object
) -> pd.DataFrame:
    """Long rows of one metric from a frame with setting, strategy, trials and config columns
    (`columns` overrides any of them, e.g. n_labeled=100)."""
    if frame.empty:
        return pd.DataFrame(columns=LONG_COLUMNS)
    out = pd.DataFrame(
        {
            "setting": frame["setting"],
            "strategy": frame["strategy"],
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


def concat_long(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The non-empty long-row frames in one (an empty one with the columns if none)."""
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=LONG_COLUMNS)


@dataclass
class Outcome:
    """What a family command built, for its index and its stdout."""

    title: str
    markdown: str = ""  # every table as Markdown (what `deepal-bench-paper` prints)
    files: list[Path] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)  # as written (markers and notes added)
    figures: list[Drawn] = field(default_factory=list)
    not_built: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # runs kept apart, code versions pooled
    skipped: list[Skipped] = field(default_factory=list)
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)  # every run used, provenance

    @property
    def duplicates(self) -> int:
        """Runs collected but left out as duplicates of pooled trials."""
        return sum(1 for skip in self.skipped if skip.kind == DUPLICATE)
