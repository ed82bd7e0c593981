"""Both sides of a suite side by side: per strategy, mean +- std AUBC of each, ours minus
theirs with its 95% Welch CI, the TOST p at +-1 pp, and one figure of both mean curves.
Written as CSV and Markdown."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from scripts.reference.curves import curve_path, read_curves, seed_aubcs  # noqa: E402
from scripts.reference.stats import MARGIN, Equivalence, equivalence  # noqa: E402

COLUMNS = ["strategy", "ours_seeds", "ours_aubc", "ours_std", "theirs_seeds", "theirs_aubc",
           "theirs_std", "diff", "ci_low", "ci_high", "tost_p", "equivalent", "n_final",
           "ours_final", "theirs_final"]  # fmt: skip


def common_points(ours: pd.DataFrame, theirs: pd.DataFrame):
    """Both curves restricted to the labeled-set sizes both sides evaluated (DMLE's code
    evaluates no model before its first cycle; ours evaluates round 0), and to the seeds
    that reached all of them."""
    shared = set(ours["n_labeled"]) & set(theirs["n_labeled"])
    if not shared:
        raise ValueError("the two sides share no labeled-set size")

    def complete(frame: pd.DataFrame) -> pd.DataFrame:  # seeds of a stopped run left out
        frame = frame[frame["n_labeled"].isin(shared)]
        counts = frame.groupby("seed")["n_labeled"].transform("nunique")
        return frame[counts == len(shared)]

    return complete(ours), complete(theirs)


def compare_row(strategy: str, ours: pd.DataFrame, theirs: pd.DataFrame) -> dict:
    """The table row of one strategy from both sides' curves (their common sizes)."""
    ours, theirs = common_points(ours, theirs)
    a, b = seed_aubcs(ours), seed_aubcs(theirs)
    last = ours["n_labeled"].max()
    try:
        eq = equivalence(a.to_numpy(), b.to_numpy(), MARGIN)
    except ValueError:  # fewer than two finished seeds on a side: no test
        nan = float("nan")
        eq = Equivalence(float(a.mean() - b.mean()), nan, nan, nan, MARGIN)
    return {
        "strategy": strategy, "ours_seeds": len(a), "ours_aubc": a.mean(),
        "ours_std": a.std(ddof=1), "theirs_seeds": len(b), "theirs_aubc": b.mean(),
        "theirs_std": b.std(ddof=1), "diff": eq.diff, "ci_low": eq.ci_low,
        "ci_high": eq.ci_high, "tost_p": eq.tost_p,
        "equivalent": bool(eq.equivalent and abs(eq.diff) <= MARGIN),
        "n_final": int(last),
        "ours_final": ours.loc[ours["n_labeled"] == last, "accuracy"].mean(),
        "theirs_final": theirs.loc[theirs["n_labeled"] == last, "accuracy"].mean(),
    }  # fmt: skip


def markdown(table: pd.DataFrame) -> str:
    """The table in percentage points, one line per strategy."""
    lines = [
        "| strategy | ours AUBC (n) | theirs AUBC (n) | ours − theirs [95% CI] (pp) "
        "| TOST p (±1 pp) | final acc. ours / theirs |",
        "|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        mark = "**" if r.equivalent else ""
        lines.append(
            f"| {r.strategy} | {r.ours_aubc:.4f} ± {r.ours_std:.4f} ({r.ours_seeds}) | "
            f"{r.theirs_aubc:.4f} ± {r.theirs_std:.4f} ({r.theirs_seeds}) | "
            f"{100 * r.diff:+.2f} [{100 * r.ci_low:+.2f}, {100 * r.ci_high:+.2f}] | "
            f"{mark}{r.tost_p:.3f}{mark} | {r.ours_final:.3f} / {r.theirs_final:.3f} "
            f"(N={r.n_final}) |"
        )
    return "\n".join(lines) + "\n"


def figure(curves: dict[str, tuple[pd.DataFrame, pd.DataFrame]], path: Path) -> Path:
    """Both sides' mean learning curves, one panel per strategy."""
    n = len(curves)
    cols = min(4, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.4 * rows), squeeze=False)
    for ax, (strategy, (ours, theirs)) in zip(axes.flat, curves.items(), strict=False):
        for frame, label, style in ((ours, "ours", "-"), (theirs, "theirs", "--")):
            mean = frame.groupby("n_labeled")["accuracy"].mean()
            ax.plot(mean.index, mean.to_numpy(), style, label=label)
        ax.set_title(strategy, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.supxlabel("labeled points", fontsize=8)
    fig.supylabel("test accuracy", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def compare_suite(out: Path, suite: str, pairs: list[tuple[str, str]], dest: Path) -> pd.DataFrame:
    """Compare (our curve tag, their curve tag) pairs of `suite` under `out`; write
    comparison.csv, comparison.md and curves.png into `dest`."""
    rows, curves = [], {}
    for ours_tag, theirs_tag in pairs:
        ours = read_curves(curve_path(out, suite, "ours", ours_tag))
        theirs = read_curves(curve_path(out, suite, "theirs", theirs_tag))
        rows.append(compare_row(ours_tag, ours, theirs))
        curves[ours_tag] = (ours, theirs)
    table = pd.DataFrame(rows, columns=COLUMNS)
    dest.mkdir(parents=True, exist_ok=True)
    table.to_csv(dest / "comparison.csv", index=False, float_format="%.6g")
    (dest / "comparison.md").write_text(markdown(table))
    figure(curves, dest / "curves.png")
    _side_files(Path(out) / suite, dest)
    return table


def _rerun_since(failure: Path) -> bool:
    """Whether the strategy's curves file was written after `failure` (a later run of that
    side finished what the failed one could not)."""
    curves = failure.with_suffix(".csv")
    return curves.exists() and curves.stat().st_mtime >= failure.stat().st_mtime


def _side_files(source: Path, dest: Path) -> None:
    """The runtimes of every run and why a side could not run a strategy, next to the table."""
    if (source / "runtimes.csv").exists() and source.resolve() != dest.resolve():
        (dest / "runtimes.csv").write_text((source / "runtimes.csv").read_text())
    failed = [f for f in sorted(source.glob("*/*.failed")) if not _rerun_since(f)]
    if failed:
        rows = [(f.parent.name, f.stem, f.read_text().strip()) for f in failed]
        pd.DataFrame(rows, columns=["side", "strategy", "reason"]).to_csv(
            dest / "failed.csv", index=False
        )
