"""The metric columns of the records, as small registered functions.

A *round metric* maps one round's test predictions to `rounds.csv` columns; a *trial
metric* maps one trial's rows of `rounds.csv` to one `summary.csv` column. The loop writes
the columns, the summary and the report read the names from here, so a new metric is one
decorated function (and its test):

    @trial_metric("auca")
    def _auca(rounds: pd.DataFrame) -> float:
        return auca(rounds["accuracy"])
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import torch

from deepal_bench.metrics.curves import aubc, f_acc
from deepal_bench.metrics.groups import group_metrics

TIMING_COLUMNS = ("train_seconds", "query_seconds", "eval_seconds")


@dataclass(frozen=True)
class RoundOutcome:
    """One round's test predictions, labels and (where the dataset defines them) groups."""

    predictions: torch.Tensor
    labels: torch.Tensor
    groups: torch.Tensor | None = None
    group_names: Sequence[str] = ()
    mismatch_groups: Sequence[str] = ()


@dataclass(frozen=True)
class TrialMetric:
    """A per-trial metric; `in_summary` metrics get mean ± std columns in the report."""

    name: str
    compute: Callable[[pd.DataFrame], float]
    in_summary: bool


ROUND_METRICS: list[Callable[[RoundOutcome], dict[str, float]]] = []
TRIAL_METRICS: dict[str, TrialMetric] = {}


def round_metric(fn: Callable[[RoundOutcome], dict[str, float]]):
    """Register `fn(outcome) -> {column: value}` as round metric columns (in order)."""
    ROUND_METRICS.append(fn)
    return fn


def trial_metric(name: str, in_summary: bool = True):
    """Register `fn(rounds of one trial, by round) -> value` as summary column `name`."""

    def decorator(fn: Callable[[pd.DataFrame], float]):
        TRIAL_METRICS[name] = TrialMetric(name, fn, in_summary)
        return fn

    return decorator


def round_columns(outcome: RoundOutcome) -> dict[str, float]:
    """Every registered round metric of one round."""
    columns: dict[str, float] = {}
    for fn in ROUND_METRICS:
        columns.update(fn(outcome))
    return columns


def trial_row(rounds: pd.DataFrame) -> dict[str, float]:
    """Every registered trial metric of one trial's rows (sorted by round here)."""
    ordered = rounds.sort_values("round")
    return {name: metric.compute(ordered) for name, metric in TRIAL_METRICS.items()}


def summary_metric_names() -> list[str]:
    """The trial metrics reported as mean ± std per strategy (AUBC, F-acc, ...)."""
    return [name for name, metric in TRIAL_METRICS.items() if metric.in_summary]


@round_metric
def accuracy(outcome: RoundOutcome) -> dict[str, float]:
    """Test accuracy."""
    correct = outcome.predictions == outcome.labels.to(outcome.predictions.device)
    return {"accuracy": float(correct.float().mean())}


@round_metric
def group_accuracy(outcome: RoundOutcome) -> dict[str, float]:
    """Worst-group / mismatch / per-group accuracy when the dataset defines test groups."""
    if outcome.groups is None:
        return {}
    groups = outcome.groups.cpu().numpy()
    names = list(outcome.group_names) or [str(g) for g in range(int(groups.max()) + 1)]
    return group_metrics(
        outcome.predictions.cpu().numpy(),
        outcome.labels.cpu().numpy(),
        groups,
        names,
        outcome.mismatch_groups,
    )


@trial_metric("aubc")
def _aubc(rounds: pd.DataFrame) -> float:
    """Area under the accuracy-budget curve (DeepAL+ §3.1)."""
    return aubc(rounds["n_labeled"].tolist(), rounds["accuracy"].tolist())


@trial_metric("f_acc")
def _f_acc(rounds: pd.DataFrame) -> float:
    """Accuracy after the quota is spent (DeepAL+ §3.1)."""
    return f_acc(rounds["accuracy"].tolist())


@trial_metric("total_seconds", in_summary=False)
def _total_seconds(rounds: pd.DataFrame) -> float:
    """Train + query + evaluation time of the trial (DeepAL+ time ratio)."""
    return float(sum(sum(row) for row in rounds[list(TIMING_COLUMNS)].itertuples(index=False)))
