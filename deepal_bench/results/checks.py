"""Consistency checks of one run's records before anything is computed from them.

A complete run's records must agree with its config and with each other: the expected
rounds per trial, accuracies in [0, 1], labeled-set sizes growing by the queried points,
one queries.csv row per queried point, and every summary.csv value equal to the trial
metric recomputed from rounds.csv (`metrics.records`). Before them, the config must hold
what the report reads from it (`check_config`). Each check returns why a run is damaged, or
None; no check builds anything larger than the records themselves, whatever the config or
the completion marker claim.

summary.csv is derived from rounds.csv (`summary_frame`, also what the run store writes).
Only the summary columns that the file holds and the metric registry knows are compared;
a registered trial metric the file lacks (a metric added after the run was recorded) is
derived from the rounds, so a new `@trial_metric` never makes an old run damaged.
"""

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from deepal_bench.metrics.records import TIMING_COLUMNS, TRIAL_METRICS, trial_row
from deepal_bench.results import schema

NUMERIC = {
    schema.ROUNDS_FILE: ["trial", "seed", "round", "n_labeled", "accuracy", *TIMING_COLUMNS],
    schema.QUERIES_FILE: list(schema.QUERIES_COLUMNS),
    schema.SUMMARY_FILE: ["trial"],  # + the registered trial metrics it holds
}
SUMMARY_TOLERANCE = 1e-6  # relative; CSV floats round-trip, timing sums may differ in the last bit


def summary_frame(rounds: pd.DataFrame, trials: Iterable[int]) -> pd.DataFrame:
    """summary.csv derived from rounds.csv: per trial of `trials`, `trial` then every
    registered trial metric of its rounds."""
    rows = [{"trial": t, **trial_row(rounds[rounds["trial"] == t])} for t in trials]
    return pd.DataFrame(rows, columns=["trial", *TRIAL_METRICS])


def known_metrics(summary: pd.DataFrame) -> list[str]:
    """The registered trial metrics that a summary.csv holds."""
    return [name for name in TRIAL_METRICS if name in summary.columns]


def check_columns(frames: dict[str, pd.DataFrame]) -> str | None:
    """Every required column present and numeric, with no blank value."""
    for name, required in NUMERIC.items():
        frame = frames[name]
        columns = required + (known_metrics(frame) if name == schema.SUMMARY_FILE else [])
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            return f"{name} lacks {', '.join(missing)}"
        for column in columns:
            values = pd.to_numeric(frame[column], errors="coerce")
            if values.isna().any() or not np.isfinite(values.to_numpy(dtype=float)).all():
                return f"{name} column {column} holds a blank or non-numeric value"
    return None


def check_accuracies(rounds: pd.DataFrame) -> str | None:
    """`accuracy` (and every other *accuracy* column, where present) lies in [0, 1]."""
    for column in [c for c in rounds.columns if "accuracy" in c]:
        values = pd.to_numeric(rounds[column], errors="coerce")
        present = values.dropna() if column != "accuracy" else values
        if ((present < 0) | (present > 1)).any():
            return f"rounds.csv column {column} holds values outside [0, 1]"
    return None


NAMED_GROUPS = ("dataset", "model", "strategy", "estimator", "selection")
BUDGET_MINIMUM = {"initial": 0, "batch": 1, "quota": 0}


def _is_count(value: object, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def check_config(config: dict) -> str | None:
    """The keys every report reads from config.yaml: a non-empty `name` in each group and
    the budget as counts (`batch` at least 1)."""
    for group in NAMED_GROUPS:
        section = config.get(group)
        name = section.get("name") if isinstance(section, dict) else None
        if not isinstance(name, str) or not name:
            return f"{schema.CONFIG_FILE} has no {group}.name"
    budget = config.get("budget")
    if not isinstance(budget, dict):
        return f"{schema.CONFIG_FILE} has no budget"
    for key, low in BUDGET_MINIMUM.items():
        if not _is_count(budget.get(key), low):
            return (
                f"{schema.CONFIG_FILE} has budget.{key}={budget.get(key)!r}, not an integer "
                f">= {low}"
            )
    return None


def expected_rounds(budget: dict) -> int:
    """Rounds per trial (round 0 included) of a budget; ValueError for one that is not
    counts with a positive batch."""
    quota, batch = budget["quota"], budget["batch"]
    if not (_is_count(quota, 0) and _is_count(batch, 1)):
        raise ValueError(f"budget quota={quota!r}, batch={batch!r} are not counts")
    return math.ceil(quota / batch) + 1


def check_trials(
    config: dict, trials: int, rounds: pd.DataFrame, queries: pd.DataFrame, summary: pd.DataFrame
) -> str | None:
    """Rounds, labeled-set sizes and queried points of every trial agree with the config
    (counts compared first, so a claimed count builds nothing)."""
    if len(summary) != trials or sorted(summary["trial"].astype(int)) != list(range(trials)):
        return (
            f"summary.csv has trials {sorted(summary['trial'].tolist())}, expected 0..{trials - 1}"
        )
    n_rounds = expected_rounds(config["budget"])
    for trial in range(trials):
        mine = rounds[rounds["trial"] == trial].sort_values("round")
        if len(mine) != n_rounds or mine["round"].tolist() != list(range(n_rounds)):
            return f"rounds.csv has rounds {mine['round'].tolist()} for trial {trial}"
        sizes = mine["n_labeled"].astype(int).tolist()
        if sizes[0] != int(config["budget"]["initial"]) or any(
            b <= a for a, b in zip(sizes, sizes[1:], strict=False)
        ):
            return f"rounds.csv has labeled-set sizes {sizes} in trial {trial}"
        picked = queries[queries["trial"] == trial]
        per_round = picked.groupby("round").size().reindex(range(n_rounds), fill_value=0)
        if per_round.tolist() != [sizes[0], *np.diff(sizes)]:
            return f"queries.csv does not hold the points queried in trial {trial}"
        if picked["pool_index"].duplicated().any() or (picked["pool_index"] < 0).any():
            return f"queries.csv repeats or misnumbers points in trial {trial}"
    return None


def check_summary(rounds: pd.DataFrame, summary: pd.DataFrame) -> str | None:
    """Every summary value of a registered metric equals the metric recomputed from
    rounds.csv."""
    names = known_metrics(summary)
    for row in summary.to_dict("records"):
        recomputed = trial_row(rounds[rounds["trial"] == row["trial"]])
        for name in names:
            stored, expected = float(row[name]), recomputed[name]
            if not math.isclose(stored, expected, rel_tol=SUMMARY_TOLERANCE, abs_tol=1e-9):
                return (
                    f"summary.csv {name}={stored:g} for trial {row['trial']} disagrees with "
                    f"rounds.csv ({expected:g})"
                )
    return None


def complete_summary(rounds: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """`summary` with every registered trial metric it lacks derived from `rounds`."""
    missing = [name for name in TRIAL_METRICS if name not in summary.columns]
    if not missing:
        return summary
    derived = summary_frame(rounds, summary["trial"].astype(int).tolist())
    return summary.assign(**{name: derived[name].to_numpy() for name in missing})


def check_records(config: dict, trials: int, frames: dict[str, pd.DataFrame]) -> str | None:
    """Why the records of a complete run are damaged, or None if they are consistent.

    Consistent records are completed in place: `frames[summary.csv]` gains the registered
    trial metrics the file lacks, derived from the rounds (`complete_summary`), so every
    reader of a checked run sees every registered column."""
    problem = check_columns(frames)
    if problem:
        return problem
    rounds, queries, summary = (
        frames[schema.ROUNDS_FILE], frames[schema.QUERIES_FILE], frames[schema.SUMMARY_FILE],
    )  # fmt: skip
    problem = (
        check_accuracies(rounds)
        or check_trials(config, trials, rounds, queries, summary)
        or check_summary(rounds, summary)
    )
    if problem is None:
        frames[schema.SUMMARY_FILE] = complete_summary(rounds, summary)
    return problem
