"""DeepAL+ survey (Zhan et al.): Tables 1, 4-9 and the epochs x batch-size ablation.

- Table 1: AUBC and F-acc per dataset (means over trials), the Full row (runs without
  acquisition, budget.quota = 0) first.
- Tables 4-7: per dataset AUBC (mean ± std), F-acc and Time (total train + query time over
  Random's), in the paper's grouping: 4 = MNIST and Waterbird w/ and w/o pre-training,
  5 = CIFAR10, CIFAR10-imb, CIFAR100, SVHN, 6 = EMNIST, FashionMNIST, TinyImageNet,
  7 = PneumoniaMNIST, BreakHis; other datasets in one more table of the same layout.
- Table 8: AUBC / F-acc of the mismatch and worst-group accuracy curves (Waterbird), Time.
- Table 9: win-tie-loss of mean AUBC, margin 0.005 (App. E.2), ranked by 2 win + tie, per
  group (8 standard datasets, 2 medical ones) with the paper's counts alongside.
- Fig. 2 / 6 (figures only in the paper): AUBC per number of training epochs x AL batch.

- §3.3 (text): AUBC of Random at 5 and 30 epochs, of WAAL at 5 epochs, and Entropy's AUBC
  gain over Random at 30 epochs on CIFAR-10 (`aubc_gain_vs_random` rows of ours).

A column is a dataset (" (w/ pre-train)" when model.pretrained); settings of one dataset
that differ in other settings get those appended, e.g. `CIFAR10 [trainer.epochs=5]`.
"""

import re

import pandas as pd

from deepal_bench.metrics import win_tie_loss
from deepal_bench.metrics.groups import MISMATCH, WORST_GROUP
from deepal_bench.report import tables
from deepal_bench.report.families.generic import full_rows
from deepal_bench.report.family import (
    Context,
    Family,
    Missing,
    Table,
    concat_long,
    long_rows,
    ordered,
    variant_suffix,
)
from deepal_bench.report.formats import cell, pm
from deepal_bench.report.labels import dataset_display_name
from deepal_bench.results.safe_read import read_csv

ORDER = [
    "random",
    "least_confidence",
    "least_confidence_dropout",
    "margin",
    "margin_dropout",
    "entropy",
    "entropy_dropout",
    "bald",
    "mean_std",
    "var_ratio",
    "ceal",
    "kmeans",
    "kmeans_faiss",
    "kcenter",
    "vaal",
    "badge",
    "adv_bim",
    "lpl",
    "waal",
]
PAPER_NAMES = dict(
    zip(
        ORDER,
        [
            "Random",
            "LeastConf",
            "LeastConfD",
            "Margin",
            "MarginD",
            "Entropy",
            "EntropyD",
            "BALD",
            "MeanSTD",
            "VarRatio",
            "CEAL(Entropy)",
            "KMeans",
            "KMeans(GPU)",
            "KCenter",
            "VAAL",
            "BADGE(KMeans++)",
            "AdvBIM",
            "LPL",
            "WAAL",
        ],
        strict=True,
    )
)
DATASETS = {
    "mnist": "MNIST",
    "fashionmnist": "FashionMNIST",
    "emnist": "EMNIST",
    "svhn": "SVHN",
    "cifar10": "CIFAR10",
    "cifar10_imb": "CIFAR10-imb",
    "cifar100": "CIFAR100",
    "tinyimagenet": "TinyImageNet",
    "pneumoniamnist": "PneumoniaMNIST",
    "breakhis": "BreakHis",
    "waterbirds": "Waterbird",
}
TABLE1 = [
    "mnist",
    "fashionmnist",
    "emnist",
    "svhn",
    "pneumoniamnist",
    "cifar10",
    "cifar100",
    "cifar10_imb",
    "tinyimagenet",
    "breakhis",
]
APPENDIX = {
    "4": ["mnist", "waterbirds"],
    "5": ["cifar10", "cifar10_imb", "cifar100", "svhn"],
    "6": ["emnist", "fashionmnist", "tinyimagenet"],
    "7": ["pneumoniamnist", "breakhis"],
}
GROUPS = {
    "standard": [
        "mnist",
        "fashionmnist",
        "emnist",
        "svhn",
        "cifar10",
        "cifar10_imb",
        "cifar100",
        "tinyimagenet",
    ],
    "medical": ["pneumoniamnist", "breakhis"],
}


def _base_column(label: str, pretrained: bool) -> str:
    return DATASETS.get(label, label) + (" (w/ pre-train)" if pretrained else "")


def _with_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds `column` (dataset, pre-training, distinguishing keys) and its sort key."""
    frame = frame.copy()
    frame["base_column"] = [
        _base_column(label, pre)
        for label, pre in zip(frame["label"], frame["pretrained"], strict=True)
    ]
    frame["column"] = frame["base_column"] + variant_suffix(frame, "base_column")
    paper_rank = {name: k for k, name in enumerate(DATASETS)}
    frame["column_order"] = [
        (paper_rank.get(label, len(paper_rank)), bool(pre), column)
        for label, pre, column in zip(
            frame["label"], frame["pretrained"], frame["column"], strict=True
        )
    ]
    return frame


def _overall(ctx: Context) -> pd.DataFrame:
    return _with_columns(ctx.overall)


def _columns(frame: pd.DataFrame) -> list[str]:
    """The columns in the paper's dataset order (w/o before w/ pre-training)."""
    firsts = frame.drop_duplicates("column")
    return [
        column for _, column in sorted(zip(firsts["column_order"], firsts["column"], strict=True))
    ]


def _full_f_acc(ctx: Context, frame: pd.DataFrame) -> dict[str, tuple[float, float, int]]:
    """Per column: F-acc mean, std and trials of the runs without acquisition on the same
    dataset and model (the paper's Full row)."""
    trials = ctx.full_trials
    if trials.empty:
        return {}
    out = {}
    for column, part in frame.groupby("column"):
        config = part["config"].iloc[0]
        same = [
            c.get("model.name") == config.get("model.name")
            and bool(c.get("model.pretrained")) == bool(config.get("model.pretrained"))
            and dataset_display_name(c) == part["label"].iloc[0]
            for c in trials["config"]
        ]
        chosen = trials[same]
        if len(chosen):
            std = chosen["f_acc"].std(ddof=1) if len(chosen) > 1 else 0.0
            out[column] = (chosen["f_acc"].mean(), std, len(chosen))
    return out


def _blank(column: str, with_time: bool) -> dict[str, str]:
    cells = {f"{column} AUBC": "—", f"{column} F-acc": "—"}
    return cells | ({f"{column} Time": "—"} if with_time else {})


def _full_row(full: dict, columns: list[str], with_time: bool) -> tuple[dict, dict]:
    """The Full row: F-acc of the runs without acquisition, blank AUBC and Time."""
    data, display = {"strategy": "full", "paper": "Full"}, {"strategy": "full", "paper": "Full"}
    for column in columns:
        mean, std, _ = full.get(column, (float("nan"), float("nan"), 0))
        data |= {f"{column} F-acc": mean, f"{column} F-acc std": std}
        display |= _blank(column, with_time) | {f"{column} F-acc": cell(mean)}
    return data, display


def _paper_name(frame: pd.DataFrame, strategy: str) -> str:
    base = frame.loc[frame["strategy"] == strategy, "base_strategy"].iloc[0]
    return PAPER_NAMES.get(base, "")


def _strategy_row(
    indexed: pd.DataFrame, strategy: str, name: str, columns: list[str], with_time: bool
) -> tuple[dict, dict]:
    """One strategy: AUBC (± std with the Time column, as Tables 4-7), F-acc, Time."""
    data, display = {"strategy": strategy, "paper": name}, {"strategy": strategy, "paper": name}
    for column in columns:
        display |= _blank(column, with_time)
        if (strategy, column) not in indexed.index:
            continue
        row = indexed.loc[(strategy, column)]
        data |= {
            f"{column} AUBC": row["aubc_mean"],
            f"{column} AUBC std": row["aubc_std"],
            f"{column} F-acc": row["f_acc_mean"],
            f"{column} F-acc std": row["f_acc_std"],
            f"{column} Time": row["time_ratio"],
            f"{column} trials": row["trials"],
        }
        aubc = pm(row["aubc_mean"], row["aubc_std"]) if with_time else cell(row["aubc_mean"])
        display |= {f"{column} AUBC": aubc, f"{column} F-acc": cell(row["f_acc_mean"])}
        if with_time:
            display[f"{column} Time"] = cell(row["time_ratio"], 2)
    return data, display


def _layout(
    ctx: Context, frame: pd.DataFrame, with_time: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(data, display) of the Tables 1 / 4-7 layout for the columns in `frame`."""
    columns = _columns(frame)
    full = _full_f_acc(ctx, frame)
    rows = [_full_row(full, columns, with_time)] if full else []
    indexed = frame.set_index(["strategy", "column"])
    rows += [
        _strategy_row(indexed, s, _paper_name(frame, s), columns, with_time)
        for s in ordered(frame, ORDER)
    ]
    return pd.DataFrame([r[0] for r in rows]), pd.DataFrame([r[1] for r in rows])


def table1(ctx: Context) -> list[Table]:
    frame = _overall(ctx)
    frame = frame[frame["label"].isin(TABLE1) & ~frame["pretrained"]]
    if frame.empty:
        names = ", ".join(DATASETS[d] for d in TABLE1)
        raise Missing(f"no runs on its datasets ({names}) without pre-training")
    data, display = _layout(ctx, frame, with_time=False)
    return [
        Table(
            "deepal_plus_table1", "DeepAL+ Table 1 (AUBC, F-acc; means over trials)", data, display
        )
    ]


def _appendix(number: str):
    def build(ctx: Context) -> list[Table]:
        frame = _overall(ctx)
        frame = frame[frame["label"].isin(APPENDIX[number])]
        if frame.empty:
            names = ", ".join(DATASETS[d] for d in APPENDIX[number])
            raise Missing(f"no runs on its datasets ({names})")
        data, display = _layout(ctx, frame, with_time=True)
        title = (
            f"DeepAL+ Table {number} (AUBC mean ± std over trials, F-acc, "
            f"Time = train + query time / {ctx.options.baseline}'s)"
        )
        return [Table(f"deepal_plus_table{number}", title, data, display)]

    return build


def other_datasets(ctx: Context) -> list[Table]:
    """Datasets outside the paper, in the layout of Tables 4-7 (nothing when none)."""
    frame = _overall(ctx)
    frame = frame[~frame["label"].isin(DATASETS)]
    if frame.empty:
        return []
    data, display = _layout(ctx, frame, with_time=True)
    title = "Other datasets in the layout of DeepAL+ Tables 4-7 (not in the paper)"
    return [Table("deepal_plus_other_datasets", title, data, display)]


def table8(ctx: Context) -> list[Table]:
    """Mismatch / worst-group AUBC and F-acc with Time, per column (DeepAL+ Table 8)."""
    rounds = ctx.rounds
    if not {MISMATCH, WORST_GROUP} & set(rounds.columns):
        raise Missing(f"no {MISMATCH} / {WORST_GROUP} columns in rounds.csv (Waterbird runs)")
    groups = tables.group_table(
        rounds.dropna(subset=[c for c in (MISMATCH, WORST_GROUP) if c in rounds])
    )
    frame = _overall(ctx).merge(groups, on=["setting", "strategy"])
    if frame.empty:
        raise Missing("no run with group accuracies")
    columns = _columns(frame)
    indexed = frame.set_index(["strategy", "column"])
    data_rows, display_rows = [], []
    for strategy in ordered(frame, ORDER):
        data = {"strategy": strategy, "paper": _paper_name(frame, strategy)}
        display = dict(data)
        for group, title in ((MISMATCH, "mismatch"), (WORST_GROUP, "worst group")):
            for column in columns:
                key = f"{column} ({title})"
                if (strategy, column) not in indexed.index or f"{group}_aubc_mean" not in frame:
                    display |= {f"{key} AUBC": "—", f"{key} F-acc": "—", f"{key} Time": "—"}
                    continue
                row = indexed.loc[(strategy, column)]
                data |= {
                    f"{key} AUBC": row[f"{group}_aubc_mean"],
                    f"{key} AUBC std": row[f"{group}_aubc_std"],
                    f"{key} F-acc": row[f"{group}_f_acc_mean"],
                    f"{key} Time": row["time_ratio"],
                }
                display |= {
                    f"{key} AUBC": pm(row[f"{group}_aubc_mean"], row[f"{group}_aubc_std"]),
                    f"{key} F-acc": cell(row[f"{group}_f_acc_mean"]),
                    f"{key} Time": cell(row["time_ratio"], 2),
                }
        data_rows.append(data)
        display_rows.append(display)
    title = "DeepAL+ Table 8 (mismatch and worst-group accuracy: AUBC mean ± std, F-acc, Time)"
    return [Table("deepal_plus_table8", title, pd.DataFrame(data_rows), pd.DataFrame(display_rows))]


def _published_table9(ctx: Context, group: str) -> pd.DataFrame:
    """The paper's win-tie-loss counts of one group (deepal_plus_table9.csv)."""
    path = ctx.options.paper_dir / "deepal_plus_table9.csv"
    try:
        published = read_csv(path, within=path.parent)
    except FileNotFoundError:
        return pd.DataFrame()
    return published[published["group"] == group]


def _table9(ctx: Context, group: str, frame: pd.DataFrame, title: str) -> Table:
    scores = frame.pivot(index="strategy", columns="column", values="aubc_mean")
    if len(scores) < 2:
        raise Missing(f"needs at least two strategies on the {group} datasets")
    table = win_tie_loss(scores, ctx.options.margin).reset_index()
    paper = _published_table9(ctx, group)
    if len(paper):
        paper = paper.set_index("strategy")[["win", "tie", "loss", "rank"]].add_prefix("paper_")
        table = table.join(paper, on="strategy")
    name = f"deepal_plus_table9_{group}"
    return Table(
        name, f"{title}: {scores.shape[1]} dataset columns ({', '.join(scores.columns)})", table
    )


def _wtl(group: str):
    def build(ctx: Context) -> list[Table]:
        frame = _overall(ctx)
        frame = frame[frame["label"].isin(GROUPS[group]) & ~frame["pretrained"]]
        if frame.empty:
            names = ", ".join(DATASETS[d] for d in GROUPS[group])
            raise Missing(f"no runs on the {group} datasets ({names})")
        title = (
            f"DeepAL+ Table 9, {group} group (win-tie-loss of mean AUBC, "
            f"margin {ctx.options.margin}; paper's counts as paper_*)"
        )
        return [_table9(ctx, group, frame, title)]

    return build


def other_wtl(ctx: Context) -> list[Table]:
    """Win-tie-loss over the columns outside the paper's two groups (nothing when none)."""
    frame = _overall(ctx)
    inside = frame["label"].isin(GROUPS["standard"] + GROUPS["medical"]) & ~frame["pretrained"]
    frame = frame[~inside]
    if frame.empty or frame["strategy"].nunique() < 2:
        return []
    title = (
        f"Win-tie-loss of mean AUBC on the other columns (margin {ctx.options.margin}; "
        "not in the paper)"
    )
    return [_table9(ctx, "other", frame, title)]


ABLATION_KEYS = ("trainer.epochs", "budget.batch", "budget.quota")


def _ablation_display(part: pd.DataFrame) -> pd.DataFrame:
    """Rows (strategy, epochs) in the paper's order, a column per AL batch size: AUBC."""
    part = part.assign(rest=variant_suffix(part, "base_column", ignore=ABLATION_KEYS))
    part = part.assign(row=part["strategy"] + part["rest"])
    display = part.pivot_table(
        index=["row", "epochs"], columns="batch", aggfunc="first", values="aubc_cell"
    ).reset_index()
    rows = part.assign(strategy=part["row"]).drop_duplicates("strategy")
    order = {name: k for k, name in enumerate(ordered(rows, ORDER))}
    display = display.sort_values(
        ["row", "epochs"], key=lambda s: s.map(order) if s.name == "row" else s
    )
    display.columns = ["strategy", "epochs", *(f"b={b}" for b in display.columns[2:])]
    return display.fillna("—").reset_index(drop=True)


def ablation(ctx: Context) -> list[Table]:
    """Fig. 2 / 6: AUBC per (strategy, training epochs) x AL batch size, per dataset."""
    frame = _overall(ctx)
    frame["epochs"] = [c.get("trainer.epochs") for c in frame["config"]]
    frame["aubc_cell"] = [
        pm(m, s) for m, s in zip(frame["aubc_mean"], frame["aubc_std"], strict=True)
    ]
    out = []
    for column, part in frame.groupby("base_column", sort=True):
        if part[["epochs", "batch"]].drop_duplicates().shape[0] < 2:
            continue
        data = part[
            [
                "setting",
                "strategy",
                "epochs",
                "batch",
                "trials",
                "aubc_mean",
                "aubc_std",
                "f_acc_mean",
                "f_acc_std",
            ]
        ]
        title = (
            f"DeepAL+ Fig. 2 / 6 layout, {column}: AUBC mean ± std per training epochs x AL "
            "batch size (a figure in the paper: ours only)"
        )
        name = f"deepal_plus_ablation_{re.sub(r'[^a-z0-9]', '', column.lower())}"
        out.append(Table(name, title, data, _ablation_display(part)))
    if not out:
        raise Missing(
            "needs runs of one dataset at two or more trainer.epochs / budget.batch values"
        )
    return out


def _group_rows(ctx: Context, overall: pd.DataFrame) -> list[pd.DataFrame]:
    """AUBC and F-acc of the mismatch and worst-group accuracy curves (Table 8)."""
    rounds = ctx.rounds
    columns = [c for c in (MISMATCH, WORST_GROUP) if c in rounds]
    if not columns:
        return []
    frame = overall.merge(
        tables.group_table(rounds.dropna(subset=columns)), on=["setting", "strategy"]
    )
    stems = [f"{group}_{metric}" for group in columns for metric in ("aubc", "f_acc")]
    return [
        long_rows(frame, stem, f"{stem}_mean", f"{stem}_std")
        for stem in stems
        if f"{stem}_mean" in frame
    ]


def _gain_rows(ctx: Context, overall: pd.DataFrame) -> pd.DataFrame:
    """Mean AUBC minus the baseline's in the same setting (§3.3's "boosts AUBC by")."""
    baseline = overall[overall["strategy"] == ctx.options.baseline]
    reference = baseline.set_index("setting")["aubc_mean"]
    frame = overall[overall["setting"].isin(reference.index)]
    frame = frame.assign(gain=frame["aubc_mean"] - frame["setting"].map(reference))
    return long_rows(frame, f"aubc_gain_vs_{ctx.options.baseline}", "gain")


def ours(ctx: Context) -> pd.DataFrame:
    """AUBC, F-acc, Time, Full F-acc, group metrics and AUBC gains as long rows."""
    if ctx.trials.empty:
        return concat_long([full_rows(ctx)])
    overall = ctx.overall
    parts = [
        long_rows(overall, "aubc", "aubc_mean", "aubc_std"),
        long_rows(overall, "f_acc", "f_acc_mean", "f_acc_std"),
        long_rows(overall, "time_ratio", "time_ratio"),
        full_rows(ctx),
        _gain_rows(ctx, overall),
    ]
    return concat_long([*parts, *_group_rows(ctx, overall)])


FAMILY = Family(
    name="deepal_plus",
    title="DeepAL+ comparative survey (Zhan et al.)",
    builders=(
        ("Table 1", table1),
        ("Table 4", _appendix("4")),
        ("Table 5", _appendix("5")),
        ("Table 6", _appendix("6")),
        ("Table 7", _appendix("7")),
        ("other datasets (Tables 4-7 layout)", other_datasets),
        ("Table 8", table8),
        ("Table 9 (standard group)", _wtl("standard")),
        ("Table 9 (medical group)", _wtl("medical")),
        ("win-tie-loss on other columns", other_wtl),
        ("Fig. 2 / 6 ablation", ablation),
    ),
    ours=ours,
    versus_name="deepal_plus_vs_paper",
    papers=("deepal_plus",),
)
