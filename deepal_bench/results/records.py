"""Pooling loaded runs into cells, and the per-trial and per-round tables of those cells.

Runs whose configs agree apart from the seed, the trial count and the keys that do not
change what a run computes (`POOLING_IGNORED_KEYS`) form one cell and their trials are
pooled; runs whose configs differ get different `CellKey`s (`results.cells`) and stay apart.
A run whose trial seeds already appear in its cell is skipped as a duplicate. Reference
runs without acquisition (budget.quota = 0) are pooled into `Records.full_cells`.

The tables carry the cell's key in a `key` column; the report renders labels from it.
"""

from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from deepal_bench.metrics.records import TRIAL_METRICS
from deepal_bench.results.cells import CellKey, cell_keys, flat_settings
from deepal_bench.results.collect import DUPLICATE, Run, Skipped
from deepal_bench.results.identity import NON_IDENTITY_KEYS, identity_of

# Keys ignored when deciding whether two runs of a cell may be pooled.
POOLING_IGNORED_KEYS = (*NON_IDENTITY_KEYS, "seed", "store_predictions")


def pooling_config(run: Run) -> dict:
    """The resolved config without the keys that may differ between pooled runs."""
    container = identity_of(OmegaConf.to_container(run.config, resolve=True))
    return {k: v for k, v in container.items() if k not in POOLING_IGNORED_KEYS}


@dataclass
class Cell:
    """The runs of one strategy on one setting whose trials are pooled."""

    key: CellKey
    runs: list[Run] = field(default_factory=list)

    @property
    def config(self) -> DictConfig:
        return self.runs[0].config

    @cached_property
    def settings(self) -> dict[str, object]:
        """The cell's config as dotted keys (`results.cells.flat_settings`)."""
        return flat_settings(pooling_config(self.runs[0]))

    @property
    def seeds(self) -> set[int]:
        return {int(s) for run in self.runs for s in run.rounds["seed"].unique()}

    @property
    def code_versions(self) -> frozenset:
        """Distinct (package, git commit) of every session of every run that has provenance."""
        return frozenset().union(*(run.provenance.code_versions for run in self.runs))

    @property
    def runs_without_provenance(self) -> int:
        return sum(not run.provenance.known for run in self.runs)


@dataclass
class Records:
    """Pooled runs: cells with acquisition, reference cells without, and the runs left out."""

    cells: list[Cell]
    full_cells: list[Cell]
    skipped: list[Skipped]

    @property
    def all_cells(self) -> list[Cell]:
        return [*self.cells, *self.full_cells]


def _add(cells: dict[CellKey, Cell], key: CellKey, run: Run) -> Skipped | None:
    """Adds `run` to its cell, or says why it is a duplicate of trials already there."""
    cell = cells.setdefault(key, Cell(key))
    repeated = sorted(cell.seeds & {int(s) for s in run.rounds["seed"].unique()})
    if repeated:
        others = ", ".join(str(r.path) for r in cell.runs)
        return Skipped(run.path, f"duplicate trials (seeds {repeated}) of {others}", DUPLICATE)
    cell.runs.append(run)
    return None


def pool_runs(runs: list[Run], skipped: list[Skipped] = ()) -> Records:
    """Pool `runs` into cells (in a stable order); duplicates join the skipped runs."""
    keys = cell_keys([pooling_config(run) for run in runs])
    cells: dict[CellKey, Cell] = {}
    duplicates = []
    for key, run in sorted(zip(keys, runs, strict=True), key=lambda pair: str(pair[1].path)):
        duplicates += [d for d in [_add(cells, key, run)] if d]
    ordered = sorted(cells.values(), key=lambda cell: cell.key.sort_key())
    return Records(
        cells=[c for c in ordered if not c.key.is_full_data],
        full_cells=[c for c in ordered if c.key.is_full_data],
        skipped=[*skipped, *duplicates],
    )


def _trial_row(cell: Cell, run: Run, trial) -> dict:
    mine = run.rounds[run.rounds["trial"] == trial.trial].sort_values("round")
    acc = mine["accuracy"].to_numpy()
    return {
        "key": cell.key,
        "dataset": cell.key.dataset.name,
        "model": cell.key.model.name,
        "batch": cell.key.budget.batch,
        "seed": int(mine["seed"].iloc[0]),
        "n_labeled": int(mine["n_labeled"].iloc[-1]),
        **{name: float(getattr(trial, name)) for name in TRIAL_METRICS},
        "al_seconds": float((mine["train_seconds"] + mine["query_seconds"]).sum()),
        "first_acc": float(acc[1] if len(acc) > 1 else acc[0]),
        "last_acc": float(acc[-1]),
        "path": str(run.path),
    }


def trial_table(cells: list[Cell]) -> pd.DataFrame:
    """One row per (cell, trial): AUBC, F-acc, times, first/last-cycle accuracy."""
    rows = [
        _trial_row(cell, run, trial)
        for cell in cells
        for run in cell.runs
        for trial in run.summary.itertuples()
    ]
    return pd.DataFrame(rows)


def round_table(cells: list[Cell]) -> pd.DataFrame:
    """One row per (cell, trial, round), with every rounds.csv column."""
    frames = [
        run.rounds.assign(key=[cell.key] * len(run.rounds)) for cell in cells for run in cell.runs
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
