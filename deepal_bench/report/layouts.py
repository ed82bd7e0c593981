"""Paper table layouts built from the overall table, next to the published numbers.

- DeepAL+ Table 1: strategies x datasets, AUBC and F-acc, with the Full row.
- DeepAL+ Table 9: win-tie-loss over datasets on mean AUBC, ranked by 2*win + tie.
- RALIF Table 2: per setting, first/last-cycle accuracy and AUCA ratio, plus the Average
  rows (mean ± std of the per-setting means across settings, as RALIF averages scenarios).
- FALCUN Fig. 4: the dueling matrix (see `tables.dueling_table`).
"""

import pandas as pd

from deepal_bench.metrics import win_tie_loss
from deepal_bench.report.formats import pm
from deepal_bench.report.paper import normalise


def _column(overall: pd.DataFrame) -> pd.Series:
    """Column label per row: the dataset, or the setting where a dataset has several."""
    per_dataset = overall.groupby("dataset")["setting"].transform("nunique")
    return overall["dataset"].where(per_dataset == 1, overall["setting"])


def deepal_plus_table1(overall: pd.DataFrame, full: pd.DataFrame) -> pd.DataFrame:
    """Strategies as rows; per dataset an AUBC and an F-acc column (means over trials)."""
    frame = overall.assign(column=_column(overall))
    rows = {}
    for row in frame.itertuples():
        rows.setdefault(row.strategy, {})[(row.column, "AUBC")] = row.aubc_mean
        rows[row.strategy][(row.column, "F-acc")] = row.f_acc_mean
    for row in full.itertuples():
        for column in frame.loc[frame["dataset"] == row.dataset, "column"].unique():
            rows.setdefault("Full", {})[(column, "F-acc")] = row.f_acc_mean
    table = pd.DataFrame.from_dict(rows, orient="index")
    columns = [(c, m) for c in sorted(frame["column"].unique()) for m in ("AUBC", "F-acc")]
    table = table.reindex(columns=columns)
    order = ["Full"] if "Full" in table.index else []
    table = table.reindex(order + sorted(i for i in table.index if i != "Full"))
    table.columns = [f"{c} {m}" for c, m in table.columns]
    table.index.name = "strategy"
    return table.reset_index()


def deepal_plus_table9(
    overall: pd.DataFrame, published: pd.DataFrame | None = None, margin: float = 0.005
) -> pd.DataFrame:
    """Win-tie-loss over datasets on mean AUBC; with `published` (deepal_plus_table9.csv
    rows of one group) the paper's counts for the same strategies alongside."""
    frame = overall.assign(column=_column(overall))
    scores = frame.pivot(index="strategy", columns="column", values="aubc_mean")
    table = win_tie_loss(scores, margin).reset_index()
    if published is not None and len(published):
        paper = published.set_index("strategy")[["win", "tie", "loss", "rank"]]
        paper = paper.add_prefix("paper_")
        table = table.join(paper, on="strategy")
    return table


def ralif_table2(overall: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """Per setting and strategy: First, Last (accuracy) and AUCA ratio, mean ± std over
    trials; then the Average rows: mean ± std over settings of the per-setting means."""
    rows = [
        [
            row.setting,
            row.strategy,
            pm(row.first_acc_mean, row.first_acc_std, digits),
            pm(row.last_acc_mean, row.last_acc_std, digits),
            pm(row.auca_ratio_mean, row.auca_ratio_std, 3),
        ]
        for row in overall.sort_values(["setting", "strategy"]).itertuples()
    ]
    for strategy, part in overall.groupby("strategy", sort=True):
        stats = part[["first_acc_mean", "last_acc_mean", "auca_ratio_mean"]]
        mean, std = stats.mean(), stats.std(ddof=1).fillna(0.0)
        rows.append(
            [
                f"Average ({len(part)} settings)",
                strategy,
                pm(mean.iloc[0], std.iloc[0], digits),
                pm(mean.iloc[1], std.iloc[1], digits),
                pm(mean.iloc[2], std.iloc[2], 3),
            ]
        )
    return pd.DataFrame(
        rows, columns=["setting", "strategy", "First cycle", "Last cycle", "AUCA ratio"]
    )


def published_table9(published_dir, group: str) -> pd.DataFrame:
    """The rows of deepal_plus_table9.csv for one group (standard / medical)."""
    path = published_dir / "deepal_plus_table9.csv"
    if not path.is_file():
        return pd.DataFrame()
    table = pd.read_csv(path)
    return table[table["group"].map(normalise) == normalise(group)]
