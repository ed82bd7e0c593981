"""`deepal-bench-plan OVERRIDES...`: what a sweep costs, printed before anything runs (the
cost model is `deepal_bench.sweeps.plan`, the throughput table
`deepal_bench.sweeps.throughput`); this module prints it as a Markdown table and notes."""

import argparse
import sys
from pathlib import Path

from hydra.errors import HydraException

from deepal_bench.errors import ConfigError
from deepal_bench.sweeps.plan import Group, Plan, plan
from deepal_bench.sweeps.throughput import THROUGHPUT_CSV, ThroughputTable

# -- output --------------------------------------------------------------------------------


def count(n: int | None) -> str:
    """1,234 below a million, else 1.23 M / 4.56 G."""
    if n is None:
        return "unknown"
    if n < 1_000_000:
        return f"{n:,}"
    return f"{n / 1e6:.2f} M" if n < 1e9 else f"{n / 1e9:.2f} G"


def hours(value: float | None, interpolated: bool, upper_bound: bool) -> str:
    if value is None:
        return "unknown"
    text = f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
    return ("<=" if upper_bound else "") + ("~" if interpolated else "") + text


def _row(group: Group, kinds: list[str], name: str) -> list[str]:
    bound = "<=" if group.upper_bound else ""
    return [
        name,
        group.input,
        str(group.jobs),
        f"{group.rounds:,}",
        bound + count(group.train_images),
        count(group.infer_images),
        *(hours(group.hours.get(k), k in group.interpolated, group.upper_bound) for k in kinds),
    ]


def format_plan(result: Plan) -> str:
    """The plan as a Markdown table, a totals line and the notes."""
    kinds = result.kinds
    header = [
        "dataset x model",
        "input",
        "jobs",
        "rounds",
        "images trained",
        "images inferred",
        *(f"{k} hours" for k in kinds),
    ]
    rows = [_row(g, kinds, f"{g.dataset} x {g.model}") for g in result.groups]
    rows.append(_row(result.total, kinds, "**total**"))
    lines = [f"| {' | '.join(header)} |", "|" + "---|" * len(header)]
    lines += [f"| {' | '.join(r)} |" for r in rows]
    t = result.total
    costs = ", ".join(
        f"{hours(t.hours.get(k), k in t.interpolated, t.upper_bound)} {k}-hours" for k in kinds
    )
    summary = (
        f"{result.title}: {t.jobs} jobs, {t.rounds:,} rounds, "
        f"{'<=' if t.upper_bound else ''}{count(t.train_images)} images trained, "
        f"{count(t.infer_images)} images inferred; {costs or 'no throughput rows'}."
    )
    return "\n".join([summary, "", *lines, "", *(f"- {n}" for n in _notes(result))])


def _notes(result: Plan) -> list[str]:
    """How the hours are estimated, and what the plan could not count or size."""
    notes = [
        "hours: device-hours, one job after another on one device: images trained / training "
        "images/s + images inferred / inference images/s (deepal_bench/sweeps/throughput.csv); ~ = "
        "from a row of another input shape, batch size, amp or compile setting, scaled by "
        "forward FLOPs; unknown = no row for that model there, or a dataset whose size is "
        "unknown without its files.",
    ]
    if result.kinds == ["cpu"] or not result.kinds:
        notes.append(
            "no GPU rows in the throughput table yet: measure them on the GPU with "
            "`python scripts/bench_throughput.py --device cuda`."
        )
    if result.total.upper_bound:
        notes.append("<= = upper bound: trainer.early_stop_train_acc may stop epochs early.")
    for what, names in result.uncounted.items():
        notes.append(f"not counted: the {what} of {', '.join(names)}.")
    for dataset, reason in result.unknown.items():
        notes.append(f"sizes unknown for {dataset}: {reason}.")
    return notes


def main(argv: list[str] | None = None) -> None:
    """Console entry point (`deepal-bench-plan`)."""
    parser = argparse.ArgumentParser(
        prog="deepal-bench-plan",
        description="Jobs, rounds, images and estimated device-hours of `deepal-bench -m "
        "OVERRIDES...`, before anything runs.",
    )
    parser.add_argument("overrides", nargs="*", help="the overrides of deepal-bench -m")
    parser.add_argument("-m", "--multirun", action="store_true", help="accepted and ignored")
    parser.add_argument(
        "--throughput",
        type=Path,
        default=THROUGHPUT_CSV,
        help="throughput table (default: the one shipped in the package)",
    )
    args = parser.parse_args(argv)
    try:
        print(format_plan(plan(args.overrides, ThroughputTable.read(args.throughput))))
    except (ConfigError, HydraException) as err:
        print(f"deepal-bench-plan: error: {err}", file=sys.stderr)
        sys.exit(2)
