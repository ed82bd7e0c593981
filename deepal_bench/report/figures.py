"""Report figures (matplotlib, Agg backend), each saved as PNG and PDF.

- accuracy-budget curves per setting, mean ± 1 std band, AUBC mean ± std in the legend
  (DeepAL+ Fig. 5);
- dueling-matrix heat map with the win/loss margins (FALCUN Fig. 4);
- AUCA-ratio box plots per setting over trials (RALIF Fig. 3);
- AUBC against total compute per setting with the Pareto front marked (cost next to gain).
"""

import io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from deepal_bench.metrics.dueling import DuelingResult  # noqa: E402
from deepal_bench.results.io import atomic_write_bytes  # noqa: E402


def slug(text: str) -> str:
    """A file-name-safe version of a setting label."""
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", text).strip("_")


def _save(fig: plt.Figure, out: Path, name: str) -> list[Path]:
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    for path in paths:  # rendered here, written without following a link (results.io)
        buffer = io.BytesIO()
        fig.savefig(buffer, format=path.suffix[1:], dpi=150, bbox_inches="tight")
        atomic_write_bytes(path, buffer.getvalue())
    plt.close(fig)
    return paths


def curve_figure(
    rounds: pd.DataFrame,
    summary: pd.DataFrame,
    setting: str,
    out: Path,
    metric: str = "accuracy",
) -> list[Path]:
    """Mean `metric` vs labeled-set size per strategy with a ±1 std band over trials."""
    part = rounds[rounds["setting"] == setting]
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    stats = summary[summary["setting"] == setting].set_index("strategy")
    order = stats.sort_values("aubc_mean", ascending=False).index if metric == "accuracy" else []
    strategies = list(order) + sorted(set(part["strategy"]) - set(order))
    palette = plt.get_cmap("tab10" if rounds["strategy"].nunique() <= 10 else "tab20")
    colour = {s: palette(k % palette.N) for k, s in enumerate(sorted(rounds["strategy"].unique()))}
    for strategy in strategies:
        curve = part[part["strategy"] == strategy].groupby("n_labeled")[metric]
        mean, std = curve.mean(), curve.std(ddof=1).fillna(0.0)
        label = strategy
        if metric == "accuracy" and strategy in stats.index:
            row = stats.loc[strategy]
            label = f"{strategy} ({row.aubc_mean:.4f} ± {row.aubc_std:.4f})"
        ax.plot(mean.index, mean.to_numpy(), marker="o", ms=3, color=colour[strategy], label=label)
        ax.fill_between(
            mean.index,
            (mean - std).to_numpy(),
            (mean + std).to_numpy(),
            alpha=0.2,
            lw=0,
            color=colour[strategy],
        )
    ax.set_xlabel("number of labeled samples")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(setting, fontsize=9)
    ax.grid(alpha=0.3)
    title = "strategy (AUBC mean ± std)" if metric == "accuracy" else "strategy"
    ax.legend(title=title, fontsize=8, title_fontsize=8)
    suffix = "" if metric == "accuracy" else f"_{metric}"
    return _save(fig, out, f"curve_{slug(setting)}{suffix}")


def dueling_figure(result: DuelingResult, out: Path) -> list[Path]:
    """Heat map of the dueling matrix with a win-rate column and a loss-rate row."""
    names = list(result.matrix.index)
    n = len(names)
    grid = np.full((n + 1, n + 1), np.nan)
    grid[:n, :n] = result.matrix.to_numpy()
    grid[:n, n] = result.win_rate.to_numpy()
    grid[n, :n] = result.loss_rate.to_numpy()
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * (n + 1), 0.8 + 0.6 * (n + 1)))
    image = ax.imshow(np.ma.masked_invalid(grid), cmap="viridis", vmin=0, vmax=100)
    for i in range(n + 1):
        for j in range(n + 1):
            if not np.isnan(grid[i, j]):
                ax.text(
                    j,
                    i,
                    f"{grid[i, j]:.0f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if grid[i, j] < 60 else "black",
                )
    ax.set_xticks(range(n + 1), [*names, "wins"], rotation=45, ha="right")
    ax.set_yticks(range(n + 1), [*names, "losses"])
    ax.axhline(n - 0.5, color="white", lw=2)
    ax.axvline(n - 0.5, color="white", lw=2)
    ax.set_title("% of (setting, round) duels the row wins (paired t-test)", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return _save(fig, out, "dueling_matrix")


def auca_boxplot(ratios: pd.DataFrame, out: Path) -> list[Path]:
    """AUCA ratio over trials, one panel per setting, one box per strategy."""
    settings = sorted(ratios["setting"].unique())
    fig, axes = plt.subplots(
        1,
        len(settings),
        figsize=(max(4.0, 3.6 * len(settings)), 3.8),
        squeeze=False,
        layout="constrained",
    )
    for ax, setting in zip(axes[0], settings, strict=True):
        part = ratios[ratios["setting"] == setting]
        strategies = sorted(part["strategy"].unique())
        ax.boxplot([part[part["strategy"] == s]["auca_ratio"] for s in strategies])
        ax.set_xticks(range(1, len(strategies) + 1), strategies, rotation=45, ha="right")
        ax.axhline(1.0, color="grey", ls="--", lw=1)
        ax.set_title(setting, fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    axes[0][0].set_ylabel("AUCA ratio (vs baseline)")
    return _save(fig, out, "auca_ratio_boxplot")


def cost_figure(frame: pd.DataFrame, setting: str, out: Path) -> list[Path]:
    """AUBC against total compute per strategy of one setting: mean total seconds per
    trial (x, log scale when it spans more than a factor of 10) and mean AUBC (y), ±1 std
    bars over trials; the strategies of the Pareto front (`frame.on_front`) filled and
    joined, the others hollow."""
    frame = frame.sort_values("total_seconds_mean")
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    front = frame[frame["on_front"]]
    ax.step(front["total_seconds_mean"], front["aubc_mean"], where="post", color="C3", lw=1)
    for row in frame.itertuples():
        colour = "C3" if row.on_front else "grey"
        ax.errorbar(
            row.total_seconds_mean,
            row.aubc_mean,
            xerr=row.total_seconds_std,
            yerr=row.aubc_std,
            fmt="o",
            ms=6,
            color=colour,
            mfc=colour if row.on_front else "white",
            capsize=2,
        )
        point = (row.total_seconds_mean, row.aubc_mean)
        ax.annotate(row.strategy, point, xytext=(4, 4), textcoords="offset points", fontsize=7)
    seconds = frame["total_seconds_mean"].dropna()
    if len(seconds) and seconds.min() > 0 and seconds.max() > 10 * seconds.min():
        ax.set_xscale("log")
    ax.set_xlabel("total seconds per trial (train + query + eval)")
    ax.set_ylabel("AUBC")
    title = "filled: the Pareto front (no other strategy has a higher AUBC for less)"
    ax.set_title(f"{setting}\n{title}", fontsize=9)
    ax.grid(alpha=0.3)
    return _save(fig, out, f"cost_{slug(setting)}")
