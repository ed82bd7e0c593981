"""Published numbers (results/paper/*.csv) next to ours, for every cell we reproduced.

Each CSV row is one published value: paper, table, dataset, strategy (our registry name),
metric (aubc, f_acc, first_acc, last_acc, auca_ratio, ...), mean, std, and optionally
batch (the per-cycle budget; blank = any) and unit (`percent` values are divided by 100).
A cell matches when the dataset names agree ignoring case and punctuation ("CIFAR10-imb"
= "cifar10_imb"), the strategy names agree and the batch agrees where the paper gives one.
"""

import re
from pathlib import Path

import pandas as pd

from deepal_bench.report.formats import markdown_table

PAPER_DIR = Path(__file__).resolve().parents[2] / "results" / "paper"
COLUMNS = ["paper", "table", "dataset", "strategy", "metric", "mean", "std", "batch", "unit"]


def normalise(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def load_published(paper_dir: Path = PAPER_DIR) -> pd.DataFrame:
    """Every published value with a `mean`, values in `percent` scaled to fractions."""
    frames = []
    for path in sorted(Path(paper_dir).glob("*.csv")):
        frame = pd.read_csv(path, dtype={"table": str, "batch": str})
        if not {"paper", "dataset", "strategy", "metric", "mean"} <= set(frame.columns):
            continue
        frames.append(frame.reindex(columns=COLUMNS))
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    published = pd.concat(frames, ignore_index=True).dropna(subset=["mean"])
    percent = published["unit"] == "percent"
    published.loc[percent, ["mean", "std"]] = published.loc[percent, ["mean", "std"]] / 100.0
    return published


def ours_long(overall: pd.DataFrame, full: pd.DataFrame | None = None) -> pd.DataFrame:
    """Our overall table as (dataset, batch, strategy, metric, mean, std) rows."""
    metrics = ["aubc", "f_acc", "first_acc", "last_acc", "auca_ratio"]
    rows = []
    for row in overall.to_dict("records"):
        for metric in metrics:
            if f"{metric}_mean" in row and pd.notna(row[f"{metric}_mean"]):
                rows.append(
                    {
                        "setting": row["setting"],
                        "dataset": row["dataset"],
                        "batch": row["batch"],
                        "strategy": row["strategy"],
                        "metric": metric,
                        "ours_mean": row[f"{metric}_mean"],
                        "ours_std": row[f"{metric}_std"],
                        "trials": row["trials"],
                    }
                )
    if full is not None:
        for row in full.to_dict("records"):
            rows.append(
                {
                    "setting": f"{row['dataset']}/{row['model']}/full",
                    "dataset": row["dataset"],
                    "batch": None,
                    "strategy": "full",
                    "metric": "f_acc",
                    "ours_mean": row["f_acc_mean"],
                    "ours_std": row["f_acc_std"],
                    "trials": row["trials"],
                }
            )
    return pd.DataFrame(rows)


def compare(ours: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """Ours vs paper for every matching cell: both means and stds and the difference."""
    columns = [
        "paper", "table", "dataset", "setting", "strategy", "metric",
        "ours_mean", "ours_std", "trials", "paper_mean", "paper_std", "difference",
    ]  # fmt: skip
    if ours.empty or published.empty:
        return pd.DataFrame(columns=columns)
    left = ours.assign(
        key=ours["dataset"].map(normalise),
        base=ours["strategy"].str.split(" [", regex=False).str[0],
    )
    right = published.assign(key=published["dataset"].map(normalise)).rename(
        columns={"mean": "paper_mean", "std": "paper_std", "dataset": "paper_dataset"}
    )
    merged = left.merge(
        right,
        left_on=["key", "base", "metric"],
        right_on=["key", "strategy", "metric"],
        suffixes=("", "_paper"),
    )
    batch_ok = merged["batch_paper"].isna() | (
        merged["batch_paper"].astype(str) == merged["batch"].astype(str)
    )
    merged = merged[batch_ok].assign(difference=lambda m: m["ours_mean"] - m["paper_mean"])
    merged["dataset"] = merged["paper_dataset"]
    return merged[columns].sort_values(
        ["paper", "table", "dataset", "setting", "strategy", "metric"]
    )


def versus_markdown(versus: pd.DataFrame) -> str:
    """The "ours vs paper" section a paper script prints (a note when nothing matched)."""
    body = (
        markdown_table(versus)
        if len(versus)
        else "no dataset/strategy of the paper in these records\n"
    )
    return f"## Ours vs paper ({len(versus)} reproduced cells)\n\n{body}"
