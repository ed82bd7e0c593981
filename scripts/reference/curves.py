"""Learning curves of one side of a comparison: one CSV per (suite, side, strategy) with
columns seed, round, n_labeled, accuracy, and the AUBC of each seed's curve."""

from pathlib import Path

import pandas as pd

from deepal_bench.metrics.curves import aubc

COLUMNS = ["seed", "round", "n_labeled", "accuracy"]
SIDES = ("ours", "theirs")


def curve_path(out: Path, suite: str, side: str, strategy: str) -> Path:
    return Path(out) / suite / side / f"{strategy}.csv"


def write_curves(path: Path, frame: pd.DataFrame) -> Path:
    """Write the curves (atomically: a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    frame[COLUMNS].to_csv(tmp, index=False)
    tmp.replace(path)
    return path


def read_curves(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    missing = sorted(set(COLUMNS) - set(frame.columns))
    if missing:
        raise ValueError(f"{path} lacks the column(s) {', '.join(missing)}")
    return frame


def earlier_seeds(path: Path, first: int) -> pd.DataFrame:
    """The rows of seeds 0 .. first-1 in the curves file at `path` (none when it does not
    exist): a run that adds seeds first, first+1, ... keeps the seeds an earlier run wrote."""
    if first <= 0 or not Path(path).exists():
        return pd.DataFrame(columns=COLUMNS)
    frame = read_curves(path)
    return frame.loc[frame["seed"] < first, COLUMNS].reset_index(drop=True)


def with_earlier(earlier: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """The earlier seeds' rows followed by this run's."""
    return (
        frame[COLUMNS] if earlier.empty else pd.concat([earlier, frame[COLUMNS]], ignore_index=True)
    )


def seed_aubcs(frame: pd.DataFrame) -> pd.Series:
    """AUBC of every seed's curve (DeepAL+'s normalised trapezoid, metrics.curves.aubc)."""
    return (
        frame.sort_values("round")
        .groupby("seed")
        .apply(lambda c: aubc(c["n_labeled"].to_numpy(), c["accuracy"].to_numpy()))
    )


def append_runtime(out: Path, suite: str, side: str, strategy: str, seeds: int, seconds: float):
    """One line per finished side x strategy: how long its seeds took (wall clock)."""
    path = Path(out) / suite / "runtimes.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with path.open("a") as f:
        if new:
            f.write("side,strategy,seeds,seconds\n")
        f.write(f"{side},{strategy},{seeds},{seconds:.1f}\n")
