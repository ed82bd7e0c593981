"""DMLE vs IMLE comparison from run records (DMLE paper Tables 2-5, §5.2 hypothesis test, Fig. 3).

- `final_accuracies(runs, n_labeled)`: one row per (run, trial) with the test accuracy
  once N_L = `n_labeled` points are labeled.
- `comparison_table(frame)`: per (dataset, strategy, k, selection), mean ± std of DMLE and
  IMLE over seeds and the two-sided Wilcoxon signed-rank test on the seed-paired
  accuracies (§5.2; `metrics.wilcoxon_signed_rank`).
- `display_table(table)`: the paper's layout, one row per (dataset, strategy, k), a column
  per selection (SSMS = softmax, SPS = power, SSRS = softrank, Top-k).
- `improvements(table)`: mean relative improvement (DMLE - IMLE) / IMLE per selection and
  per k (the averages of §5.2 and App. F).
- `plot_curves(runs, path)`: mean ± 1 std test accuracy over cycles, DMLE vs IMLE (Fig. 3).

The command is `deepal-bench-paper dmle RESULTS_DIR...` (`report.families.dmle`).
"""

import io
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from deepal_bench.metrics import wilcoxon_signed_rank
from deepal_bench.report.labels import dataset_display_name
from deepal_bench.results.cells import flat_settings
from deepal_bench.results.collect import Run
from deepal_bench.results.io import atomic_write_bytes

SELECTIONS = ("softmax", "power", "softrank", "topk")
PAPER_NAMES = {"softmax": "SSMS", "power": "SPS", "softrank": "SSRS", "topk": "Top-k"}
KEYS = ["dataset", "strategy", "k", "selection"]


def dataset_of(settings: dict) -> str:
    """The dataset column of the DMLE tables (`labels.dataset_display_name`)."""
    return dataset_display_name(settings)


def _describe(run: Run) -> dict:
    c = run.config
    return {
        "dataset": dataset_of(flat_settings(OmegaConf.to_container(c, resolve=True))),
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


def comparison_table(
    frame: pd.DataFrame, treatment: str = "dmle", baseline: str = "imle"
) -> pd.DataFrame:
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
                "p_two_sided": wilcoxon_signed_rank(t, b).pvalue,
            }
        )
    return pd.DataFrame(out)


def display_table(
    table: pd.DataFrame, treatment: str = "dmle", baseline: str = "imle"
) -> pd.DataFrame:
    """Tables 2/4/5 layout; each cell `DMLE vs IMLE (p)` with mean ± std and the two-sided p."""
    present = [s for s in SELECTIONS if s in set(table["selection"])]
    rows = []
    for (dataset, strategy, k), part in table.groupby(["dataset", "strategy", "k"], sort=True):
        row = {"dataset": dataset, "strategy": strategy, "k": k}
        for sel in present:
            chosen = part[part["selection"] == sel]
            if chosen.empty:
                row[PAPER_NAMES[sel]] = ""
                continue
            r = chosen.iloc[0]
            row[PAPER_NAMES[sel]] = (
                f"{r[f'{treatment}_mean']:.3f} ± {r[f'{treatment}_std']:.3f} vs "
                f"{r[f'{baseline}_mean']:.3f} ± {r[f'{baseline}_std']:.3f} "
                f"(p={r['p_two_sided']:.3f}, n={int(r['pairs'])})"
            )
        rows.append(row)
    return pd.DataFrame(
        rows, columns=["dataset", "strategy", "k", *(PAPER_NAMES[s] for s in present)]
    )


def improvements(table: pd.DataFrame, treatment: str = "dmle", baseline: str = "imle"):
    """Per strategy: mean of (DMLE - IMLE) / IMLE (%) over (dataset, k) for each selection,
    and over (dataset, selection) for each k, as §5.2 / App. F average them."""
    frame = table.assign(
        relative=100
        * (table[f"{treatment}_mean"] - table[f"{baseline}_mean"])
        / table[f"{baseline}_mean"]
    )
    by_selection = frame.groupby(["strategy", "selection"], as_index=False).agg(
        relative_improvement=("relative", "mean"), experiments=("relative", "size")
    )
    by_k = frame.groupby(["strategy", "k"], as_index=False).agg(
        relative_improvement=("relative", "mean"), experiments=("relative", "size")
    )
    return by_selection, by_k


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
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.suffix[1:], dpi=120)
    atomic_write_bytes(path, buffer.getvalue())  # never through a link (results.io)
    plt.close(fig)
