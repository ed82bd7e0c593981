"""`deepal-bench-plan OVERRIDES...`: what a sweep costs, printed before anything runs (the
cost model is `deepal_bench.sweeps.plan`)."""

import argparse
import sys
from pathlib import Path

from hydra.errors import HydraException

from deepal_bench.errors import ConfigError
from deepal_bench.sweeps.plan import THROUGHPUT_CSV, ThroughputTable, format_plan, plan


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
