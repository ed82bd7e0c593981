"""Summary tables from loaded runs: AUBC and F-acc, mean ± std over trials."""

import pandas as pd

from deepal_bench.results.collect import Run


def summary_table(runs: list[Run]) -> pd.DataFrame:
    """One row per (setting, strategy): trials, AUBC and F-acc mean and std over trials.

    Runs of the same setting and strategy (e.g. two seeds) are pooled trial by trial.
    """
    frames = [run.summary.assign(setting=run.setting, strategy=run.strategy) for run in runs]
    if not frames:
        return pd.DataFrame(
            columns=[
                "setting",
                "strategy",
                "trials",
                "aubc_mean",
                "aubc_std",
                "f_acc_mean",
                "f_acc_std",
            ]
        )
    data = pd.concat(frames, ignore_index=True)
    grouped = data.groupby(["setting", "strategy"], sort=True)
    table = grouped.agg(
        trials=("aubc", "size"),
        aubc_mean=("aubc", "mean"),
        aubc_std=("aubc", "std"),
        f_acc_mean=("f_acc", "mean"),
        f_acc_std=("f_acc", "std"),
    ).reset_index()
    return table.fillna({"aubc_std": 0.0, "f_acc_std": 0.0})


def to_markdown(table: pd.DataFrame) -> str:
    """Markdown table per setting, strategies sorted by mean AUBC (best first)."""
    blocks = []
    for setting, part in table.groupby("setting", sort=True):
        lines = [f"### {setting}", "", "| strategy | trials | AUBC | F-acc |", "|---|---|---|---|"]
        for row in part.sort_values("aubc_mean", ascending=False).itertuples():
            lines.append(
                f"| {row.strategy} | {row.trials} | {row.aubc_mean:.4f} ± {row.aubc_std:.4f} "
                f"| {row.f_acc_mean:.4f} ± {row.f_acc_std:.4f} |"
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
