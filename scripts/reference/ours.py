"""Our side: the suite's experiment through the normal CLI (`python -m deepal_bench` with
overrides), then its records (rounds.csv) as curves."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from scripts.reference.curves import append_runtime, curve_path, write_curves
from scripts.reference.suites import Suite


class OurRunFailed(Exception):
    """Our CLI refused or failed a run; the message carries its one-paragraph error."""


def command(suite: Suite, strategy: str, data_file: Path, seeds: int, run_dir: Path,
            extra: list[str]) -> list[str]:  # fmt: skip
    """The CLI command line of our run."""
    overrides = suite.ours_overrides(strategy, str(data_file), seeds)
    return [sys.executable, "-m", "deepal_bench", *overrides, *extra, f"output_dir={run_dir}"]


def run_ours(
    suite: Suite,
    strategy: str,
    data_file: Path,
    seeds: int,
    out: Path,
    extra: list[str],
    code: Path | None = None,
) -> Path:
    """Run `strategy` over `seeds` trials through the CLI (of the checkout `code`, default
    the current folder's); write and return its curves."""
    tag = strategy + ("+" + "+".join(e.split("=")[0].lstrip("+") for e in extra) if extra else "")
    run_dir = Path(out) / suite.name / "ours_runs" / tag
    started = time.time()
    env = dict(os.environ, PYTHONPATH=str(code)) if code else None
    done = subprocess.run(
        command(suite, strategy, Path(data_file).resolve(), seeds, run_dir.resolve(), extra),
        stderr=subprocess.PIPE,
        text=True,
        cwd=code,
        env=env,
    )
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if "error:" in line]
        reason = errors[-1] if errors else done.stderr.strip().splitlines()[-1:]
        raise OurRunFailed(f"our run of {tag} failed (exit {done.returncode}): {reason}")
    path = write_curves(curve_path(out, suite.name, "ours", tag), curves_of_run(run_dir))
    append_runtime(out, suite.name, "ours", tag, seeds, time.time() - started)
    return path


def curves_of_run(run_dir: Path) -> pd.DataFrame:
    """The curves in a run directory's rounds.csv (trial t as seed t)."""
    rounds = pd.read_csv(Path(run_dir) / "rounds.csv")
    return rounds.drop(columns="seed").rename(columns={"trial": "seed"})


def collect(out: Path, suite: Suite) -> list[Path]:
    """Curves of every run of the suite under `out`, finished or stopped (a stopped run's
    unfinished trial is left out by the comparison)."""
    runs = sorted((Path(out) / suite.name / "ours_runs").glob("*/rounds.csv"))
    return [
        write_curves(curve_path(out, suite.name, "ours", r.parent.name), curves_of_run(r.parent))
        for r in runs
    ]
