"""What each gain costs: the Pareto front of AUBC against compute, and `deepal-bench-plan`'s
estimate beside the measured cost.

The plan's estimate of a run is `sweeps.plan.job_cost` of the run's own `config.yaml` with
the shipped throughput table, on the device kind the run's `provenance.json` records (`cpu`,
or the GPU kind the table has a row for, named in the device's name), scaled from the
config's trials to the trials measured. The measured cost is the runs' `total_seconds`
(train + query + evaluation, summed over trials), which the plan's device-hours (training
and inference images over the measured images per second) estimate. Where the estimate is
unknown the note says why: no provenance (the device is unknown), no throughput row for the
device or model, dataset sizes unknown without its files, a config the plan cannot cost.
"""

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from omegaconf.errors import OmegaConfBaseException

from deepal_bench.errors import ConfigError
from deepal_bench.results.collect import Run
from deepal_bench.results.records import Cell
from deepal_bench.sweeps.plan import JobCost, job_cost
from deepal_bench.sweeps.throughput import ThroughputTable

SECONDS_PER_HOUR = 3600.0


def pareto_front(cost, gain) -> np.ndarray:
    """Per point, whether it is on the Pareto front of low cost and high gain: no other
    point has a gain >= and a cost <= its own, one of them strictly. A point with a NaN is
    never on the front and dominates none; equal points are both on it."""
    c, g = np.asarray(cost, dtype=float), np.asarray(gain, dtype=float)
    known = ~(np.isnan(c) | np.isnan(g))
    # dominates[j, i]: point j dominates point i (never itself: one must be strict)
    no_worse = (g[:, None] >= g[None, :]) & (c[:, None] <= c[None, :])
    better = (g[:, None] > g[None, :]) | (c[:, None] < c[None, :])
    dominates = known[:, None] & no_worse & better
    return known & ~dominates.any(axis=0)


def device_kind(device: str | None, kinds: list[str]) -> str | None:
    """The throughput table's kind of a recorded device name: the first word of the name
    that is a kind of the table (`cpu (AMD EPYC ...)` -> cpu, `NVIDIA H100 80GB HBM3` ->
    h100 if the table has h100); None when the table has none."""
    words = re.findall(r"[a-z0-9]+", (device or "").lower())
    return next((word for word in words if word in kinds), None)


@dataclass
class Estimate:
    """The plan's device-hours for some runs (None: unknown), the device kinds they ran on,
    and what the reader should know about the number."""

    hours: float | None
    kinds: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _run_kind(run: Run, kinds: list[str]) -> tuple[str | None, str | None]:
    """The device kind of the run's sessions, or None and why it is not known."""
    provenance = run.provenance
    if not provenance.known:
        return None, provenance.problem or "no provenance.json: the device is unknown"
    devices = list(dict.fromkeys(str(session.device) for session in provenance.sessions))
    found = {device_kind(device, kinds) for device in devices}
    if len(found) > 1:
        return None, f"computed on several device kinds ({', '.join(devices)})"
    kind = found.pop()
    if kind is None:
        return None, f"no throughput row for {devices[0]} (the table has {', '.join(kinds)})"
    return kind, None


def _cost(run: Run, table: ThroughputTable) -> tuple[JobCost | None, str | None]:
    """The plan's cost of the run's config, or None and why it cannot be costed."""
    try:
        if int(run.config.trials) < 1:
            raise ValueError(f"trials={run.config.trials}")
        return job_cost(run.config, table), None
    except (ConfigError, OmegaConfBaseException, KeyError, TypeError, ValueError) as err:
        return None, f"the plan cannot cost its config ({type(err).__name__}: {err})"


def _notes(cost: JobCost, kind: str) -> list[str]:
    notes = [f"~ scaled from the nearest {kind} throughput row"] * (kind in cost.interpolated)
    notes += ["upper bound (trainer.early_stop_train_acc)"] * cost.upper_bound
    return notes + [f"not counted: {what} ({who})" for what, who in cost.uncounted]


def run_estimate(run: Run, table: ThroughputTable) -> Estimate:
    """The plan's device-hours for the trials the run recorded, on the device it ran on."""
    kind, why = _run_kind(run, table.device_kinds())
    if kind is None:
        return Estimate(None, notes=[why])
    cost, why = _cost(run, table)
    if cost is None:
        return Estimate(None, [kind], [why])
    if cost.unknown is not None:
        return Estimate(None, [kind], [f"dataset sizes unknown: {cost.unknown}"])
    hours = cost.hours.get(kind)
    if hours is None:
        return Estimate(None, [kind], [f"no throughput row for model {cost.model} on {kind}"])
    trials = len(run.summary) / int(run.config.trials)
    return Estimate(hours * trials, [kind], _notes(cost, kind))


def cell_estimate(cell: Cell, table: ThroughputTable) -> Estimate:
    """The sum of the plan's estimates of the cell's runs (unknown if one is unknown)."""
    estimates = [run_estimate(run, table) for run in cell.runs]
    known = all(e.hours is not None for e in estimates)
    return Estimate(
        sum(e.hours for e in estimates) if known else None,
        list(dict.fromkeys(kind for e in estimates for kind in e.kinds)),
        list(dict.fromkeys(note for e in estimates for note in e.notes)),
    )


PLAN_COLUMNS = [
    "setting",
    "strategy",
    "trials",
    "device",
    "plan_hours",
    "measured_seconds",
    "measured_hours",
    "measured_over_plan",
    "note",
]


def plan_vs_measured(
    cells: list[tuple[str, str, Cell]], trials: pd.DataFrame, table: ThroughputTable
) -> pd.DataFrame:
    """Per (setting, strategy, cell): the plan's device-hours for its runs, the measured
    total seconds of its trials (`trials`: one row per setting, strategy and trial with
    `total_seconds`), in hours too, and measured / plan."""
    measured = trials.groupby(["setting", "strategy"])["total_seconds"].agg(["sum", "size"])
    rows = []
    for setting, strategy, cell in cells:
        estimate = cell_estimate(cell, table)
        seconds, count = measured.loc[(setting, strategy)]
        hours = seconds / SECONDS_PER_HOUR
        plan = np.nan if estimate.hours is None else estimate.hours
        rows.append(
            {
                "setting": setting,
                "strategy": strategy,
                "trials": int(count),
                "device": ", ".join(estimate.kinds) or "unknown",
                "plan_hours": plan,
                "measured_seconds": seconds,
                "measured_hours": hours,
                "measured_over_plan": hours / plan if plan > 0 else np.nan,
                "note": "; ".join(estimate.notes) or "",
            }
        )
    return pd.DataFrame(rows, columns=PLAN_COLUMNS)
