"""DMLE vs IMLE comparison from run records (DMLE paper Table 2, §5.2 hypothesis test, Fig. 3).

- `final_accuracies(runs, n_labeled)`: one row per (run, trial) with the test accuracy
  once N_L = `n_labeled` points are labeled.
- `comparison_table(frame)`: per (dataset, strategy, k, selection), mean ± std of DMLE and
  IMLE over seeds and the Wilcoxon signed-rank test on the seed-paired accuracies (§5.2).
- `to_markdown(table)`: the paper's layout, one row per (dataset, k), a column pair per
  selection (SSMS = softmax, SPS = power, SSRS = softrank, Top-k).
- `plot_curves(runs, path)`: mean ± 1 std test accuracy over cycles, DMLE vs IMLE (Fig. 3).
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from deepal_bench.results.collect import Run, collect
from deepal_bench.results.io import atomic_write_csv, atomic_write_text

SELECTIONS = ("softmax", "power", "softrank", "topk")
PAPER_NAMES = {"softmax": "SSMS", "power": "SPS", "softrank": "SSRS", "topk": "Top-k"}
KEYS = ["dataset", "strategy", "k", "selection"]


def _describe(run: Run) -> dict:
    c = run.config
    return {
        "dataset": str(c.dataset.name),
        "strategy": str(c.strategy.name),
        "k": int(c.budget.batch),
        "selection": str(c.selection.name),
        "estimator": str(c.estimator.name),
    }


def final_accuracies(runs: list[Run], n_labeled: int = 100) -> pd.DataFrame:
    """Accuracy at N_L = n_labeled per (run, trial); runs that never reach it are left out."""
    rows = []
    for run in runs:
        hit = run.rounds[run.rounds["n_labeled"] == n_labeled]
        for row in hit.itertuples():
            rows.append({**_describe(run), "seed": int(row.seed), "accuracy": row.accuracy})
    return pd.DataFrame(rows, columns=[*KEYS, "estimator", "seed", "accuracy"])


def wilcoxon_p(a: np.ndarray, b: np.ndarray, alternative: str = "two-sided") -> float:
    """Wilcoxon signed-rank p-value of paired samples; 1.0 when every difference is zero."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(diff) == 0:
        return float("nan")
    if np.all(diff == 0):
        return 1.0
    return float(stats.wilcoxon(a, b, alternative=alternative).pvalue)


def comparison_table(frame: pd.DataFrame, treatment: str = "dmle", baseline: str = "imle"):
    """Mean ± std per estimator and the Wilcoxon test over seeds, per (dataset, k, selection)."""
    out = []
    for key, part in frame.groupby(KEYS, sort=True):
        pivot = part.pivot_table(index="seed", columns="estimator", values="accuracy")
        if treatment not in pivot or baseline not in pivot:
            continue
        paired = pivot[[treatment, baseline]].dropna()
        t, b = paired[treatment].to_numpy(), paired[baseline].to_numpy()
        out.append(
            {
                **dict(zip(KEYS, key, strict=True)),
                "pairs": len(paired),
                f"{treatment}_mean": t.mean(),
                f"{treatment}_std": t.std(ddof=1) if len(t) > 1 else 0.0,
                f"{baseline}_mean": b.mean(),
                f"{baseline}_std": b.std(ddof=1) if len(b) > 1 else 0.0,
                "diff_mean": (t - b).mean(),
                "p_two_sided": wilcoxon_p(t, b),
                "p_greater": wilcoxon_p(t, b, "greater"),
            }
        )
    return pd.DataFrame(out)


def to_markdown(table: pd.DataFrame, treatment: str = "dmle", baseline: str = "imle") -> str:
    """Table 2 layout; each cell `DMLE | IMLE (p)` with mean ± std and the two-sided p."""
    present = [s for s in SELECTIONS if s in set(table["selection"])]
    head = "| dataset | strategy | k | " + " | ".join(PAPER_NAMES[s] for s in present) + " |"
    lines = [head, "|" + "---|" * (3 + len(present))]
    for (dataset, strategy, k), part in table.groupby(["dataset", "strategy", "k"], sort=True):
        cells = []
        for sel in present:
            row = part[part["selection"] == sel]
            if row.empty:
                cells.append("")
                continue
            r = row.iloc[0]
            cells.append(
                f"{r[f'{treatment}_mean']:.3f} ± {r[f'{treatment}_std']:.3f} vs "
                f"{r[f'{baseline}_mean']:.3f} ± {r[f'{baseline}_std']:.3f} "
                f"(p={r['p_two_sided']:.3f}, n={int(r['pairs'])})"
            )
        lines.append(f"| {dataset} | {strategy} | {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def curves(runs: list[Run]) -> pd.DataFrame:
    """Mean and std test accuracy per (setting, estimator, round) over trials."""
    frames = [run.rounds.assign(**_describe(run)) for run in runs]
    if not frames:
        return pd.DataFrame()
    data = pd.concat(frames, ignore_index=True)
    grouped = data.groupby([*KEYS, "estimator", "round"], sort=True)
    return grouped.agg(
        n_labeled=("n_labeled", "first"),
        mean=("accuracy", "mean"),
        std=("accuracy", "std"),
    ).reset_index()


def plot_curves(runs: list[Run], path: Path) -> None:
    """Fig. 3: one row per (dataset, strategy, k), one panel per selection, DMLE vs IMLE."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = curves(runs)
    if table.empty:
        return
    settings = list(table.groupby(["dataset", "strategy", "k"], sort=True).groups)
    present = [s for s in SELECTIONS if s in set(table["selection"])]
    fig, axes = plt.subplots(
        len(settings),
        len(present),
        figsize=(3.2 * len(present), 2.6 * len(settings)),
        squeeze=False,
        sharey="row",
    )
    for i, (dataset, strategy, k) in enumerate(settings):
        for j, sel in enumerate(present):
            ax = axes[i][j]
            part = table[
                (table.dataset == dataset)
                & (table.strategy == strategy)
                & (table.k == k)
                & (table.selection == sel)
            ]
            for estimator, line in part.groupby("estimator", sort=True):
                std = line["std"].fillna(0.0)
                ax.plot(line["round"], line["mean"], label=estimator.upper())
                ax.fill_between(line["round"], line["mean"] - std, line["mean"] + std, alpha=0.2)
            ax.set_title(f"{dataset} k={k} {PAPER_NAMES[sel]}", fontsize=9)
            ax.set_xlabel("cycle")
            if j == 0:
                ax.set_ylabel(f"test accuracy ({strategy})")
            ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """`scripts/dmle_table.py RESULTS_DIR... [--n-labeled 100] [--out DIR]`."""
    parser = argparse.ArgumentParser(
        prog="dmle_table",
        description="DMLE vs IMLE: mean ± std accuracy at N_L, Wilcoxon signed-rank p over "
        "seeds (DMLE paper Table 2, §5.2) and the accuracy-vs-cycles plot (Fig. 3).",
    )
    parser.add_argument("results_dirs", nargs="+", type=Path, metavar="RESULTS_DIR")
    parser.add_argument("--n-labeled", type=int, default=100)
    parser.add_argument("--out", type=Path, default=None, help="default: RESULTS_DIR/report")
    args = parser.parse_args(argv)
    runs, skipped = collect(args.results_dirs)
    for skip in skipped:
        print(f"skipped {skip.path}: {skip.reason}", file=sys.stderr)
    table = comparison_table(final_accuracies(runs, args.n_labeled))
    if table.empty:
        print("dmle_table: error: no paired DMLE/IMLE runs reaching N_L found", file=sys.stderr)
        return 1
    out = args.out or args.results_dirs[0] / "report"
    out.mkdir(parents=True, exist_ok=True)
    markdown = to_markdown(table)
    atomic_write_csv(out / "dmle_table.csv", table)
    atomic_write_text(out / "dmle_table.md", markdown)
    plot_curves(runs, out / "dmle_curves.png")
    print(markdown)
    print(f"written to {out} (dmle_table.md, dmle_table.csv, dmle_curves.png)")
    return 0
