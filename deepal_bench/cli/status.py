"""`deepal-bench-status RESULTS_DIR... [--expect OVERRIDES...]`: where a sweep stands (the
states are described in `deepal_bench.sweeps.status`)."""

import argparse
import sys
from pathlib import Path

from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException

from deepal_bench.results.lock import LockWatch
from deepal_bench.sweeps.expand import Job, expand
from deepal_bench.sweeps.status import (
    DEFAULT_LOCK_TIMEOUT,
    expect_report,
    find_run_dirs,
    run_status,
    totals,
)

PROG = "deepal-bench-status"


def _fail(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage=f"{PROG} RESULTS_DIR... [--lock-timeout S] [--expect OVERRIDES...]",
        description="One line per run directory below RESULTS_DIR (complete, in progress, "
        "stale, damaged, failed), then totals. Reads records and logs only; never writes.",
        epilog="--expect OVERRIDES... comes last: the overrides the sweep was launched with "
        "(`-m` may be given); prints `deepal-bench -m` lines launching the jobs that are "
        "neither complete nor in progress.",
    )
    parser.add_argument("results_dirs", nargs="+", type=Path, metavar="RESULTS_DIR")
    parser.add_argument(
        "--lock-timeout", type=float, default=None, metavar="S",
        help="the lease assumed for a LOCK that records none, written by an older version "
        f"(default: each run's own lock_timeout, else {DEFAULT_LOCK_TIMEOUT:g})",
    )  # fmt: skip
    return parser


def _expected_jobs(overrides: list[str]) -> list[Job]:
    overrides = [o for o in overrides if o not in ("-m", "--multirun")]
    try:
        return expand(overrides)
    except (HydraException, OmegaConfBaseException, ValueError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        _fail(f"bad --expect overrides {' '.join(overrides)!r}: {reason}")


def main(argv: list[str] | None = None) -> None:
    """Console entry point (`deepal-bench-status`)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    expect = argv[argv.index("--expect") + 1 :] if "--expect" in argv else None
    args = _parser().parse_args(argv[: argv.index("--expect")] if expect is not None else argv)
    for root in args.results_dirs:
        if not root.is_dir():
            _fail(f"RESULTS_DIR '{root}' is not a folder")
    jobs = _expected_jobs(expect) if expect is not None else None
    paths = find_run_dirs(args.results_dirs)
    watch = LockWatch(paths)  # every LOCK watched at once
    statuses = [run_status(path, args.lock_timeout, watch) for path in paths]
    for status in statuses:
        print(status.line())
    print(totals(statuses))
    if jobs is not None:
        print("\n".join(expect_report(jobs, args.lock_timeout)))
