"""FALCUN (fast uncertainty- and diversity-based AL): Tables 2-3 and Figs. 2-5.

The paper gives its label-efficiency results as figures; ours are tables of the same data:
- Fig. 2 / 13 / 14 / 17: AUBC (mean ± std) and final accuracy per dataset group (grayscale
  images, colour images, tabular OpenML sets), a column per dataset, model and query size Q.
- Fig. 3: final accuracy on RepeatedMNIST per redundancy (share of duplicated images).
- Fig. 4: the dueling matrix (paired t-tests over trials per setting and round, alpha 0.05).
- Fig. 5: improvement over Random of the mean accuracy over acquisition rounds (percentage
  points) and the mean query time per round.
Tables with published numbers:
- Table 2: min and max over settings of the average cumulated query time.
- Table 3: gamma / u(x) / d(x) ablation, mean test accuracy (%) at the paper's budgets.
"""

from collections.abc import Callable

import numpy as np
import pandas as pd

from deepal_bench.report import figures, tables
from deepal_bench.report.family import (
    Context,
    Family,
    Figure,
    Missing,
    Table,
    concat_long,
    long_rows,
    ordered,
    variant_rows,
    variant_suffix,
)
from deepal_bench.report.formats import cell, pm
from deepal_bench.report.labels import dataset_variant, redundancy_share
from deepal_bench.results.cells import common_settings

ORDER = ["random", "entropy", "kcenter", "cdal", "badge", "clue", "alfamix", "falcun"]
NAMES = {
    "mnist": "MNIST",
    "fashionmnist": "FashionMNIST",
    "emnist": "EMNIST",
    "svhn": "SVHN",
    "bloodmnist": "BloodMNIST",
    "dermamnist": "DermaMNIST",
    "openml-6": "OpenML-6",
    "openml-155": "OpenML-155",
    "openml-156": "OpenML-156",
}
GROUPS = {
    "gray": ("grayscale images", ["mnist", "fashionmnist", "emnist"]),
    "color": ("colour images", ["svhn", "bloodmnist", "dermamnist"]),
    "tabular": ("tabular OpenML sets", ["openml-6", "openml-155", "openml-156"]),
}
TABLE3_SIZES = {  # the paper's dataset name: its Table 3 budgets
    "EMNIST": (400, 1000, 2000),
    "RepeatedMNIST (90%)": (1000, 2500, 5000),
    "BloodMNIST": (1000, 2500, 5000),
    "OpenML-6": (2000, 5000, 10000),
}


def display_name(settings: dict) -> str:
    """EMNIST, RepeatedMNIST (90%), OpenML-6, ... as the paper writes them."""
    name = NAMES.get(dataset_variant(settings), dataset_variant(settings))
    share = redundancy_share(settings)
    return name if share is None else f"Repeated{name} ({share}%)"


def group_of(settings: dict) -> str:
    """gray, color, tabular (FALCUN §4's three kinds of data) or other."""
    name = dataset_variant(settings)
    return next((g for g, (_, names) in GROUPS.items() if name in names), "other")


def _columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds `column`: dataset, model and query size Q (+ other distinguishing keys)."""
    frame = frame.copy()
    base = [
        f"{display_name(config)}, {model}, Q={batch}"
        for config, model, batch in zip(
            frame["config"], frame["model_label"], frame["batch"], strict=True
        )
    ]
    frame["column"] = base
    frame["column"] += variant_suffix(frame, "column", ignore=("model", "budget.batch"))
    return frame


def _overall(ctx: Context) -> pd.DataFrame:
    overall = ctx.overall.merge(
        ctx.cells[["setting", "strategy", "model"]].rename(columns={"model": "model_label"}),
        on=["setting", "strategy"],
    )
    return _columns(overall)


def _wide(frame: pd.DataFrame, cells: dict[str, Callable[[pd.Series], str]]) -> pd.DataFrame:
    """Rows = strategies (paper order), columns = `<column> <name>` for each cell maker."""
    rows = []
    indexed = frame.set_index(["strategy", "column"])
    for strategy in ordered(frame.drop_duplicates("strategy"), ORDER):
        row = {"strategy": strategy}
        for column in sorted(frame["column"].unique()):
            for name, make in cells.items():
                key = (strategy, column)
                row[f"{column} {name}"] = make(indexed.loc[key]) if key in indexed.index else "—"
        rows.append(row)
    return pd.DataFrame(rows)


def _group(group: str):
    title, _ = GROUPS[group]

    def build(ctx: Context) -> list[Table]:
        frame = _overall(ctx)
        frame = frame[[group_of(config) == group for config in frame["config"]]]
        if frame.empty:
            raise Missing(f"no runs on {title}")
        display = _wide(
            frame,
            {
                "AUBC": lambda r: pm(r["aubc_mean"], r["aubc_std"]),
                "F-acc": lambda r: cell(r["f_acc_mean"]),
            },
        )
        name = (
            f"FALCUN Fig. 2 layout, {title} (AUBC mean ± std, final accuracy; learning "
            "curves in the paper: ours only)"
        )
        data = frame.drop(columns=["config"])
        return [Table(f"falcun_{group}", name, data, display)]

    return build


def redundancy(ctx: Context) -> list[Table]:
    """Fig. 3: final accuracy (%) per redundancy ratio of RepeatedMNIST."""
    frame = _overall(ctx)
    frame = frame[[redundancy_share(config) is not None for config in frame["config"]]]
    if frame.empty:
        raise Missing("no RepeatedMNIST runs (dataset.redundancy)")
    frame = frame.assign(column=frame["column"])
    display = _wide(
        frame, {"F-acc %": lambda r: pm(100 * r["f_acc_mean"], 100 * r["f_acc_std"], 2)}
    )
    title = "FALCUN Fig. 3 layout: final accuracy (%) per RepeatedMNIST redundancy (ours only)"
    return [Table("falcun_repeatedmnist", title, frame.drop(columns=["config"]), display)]


def _per_trial_rounds(ctx: Context) -> pd.DataFrame:
    """Per (setting, strategy, seed): mean accuracy and mean query seconds over the
    acquisition rounds (round >= 1), and the cumulated query seconds."""
    rounds = ctx.rounds
    rounds = rounds[rounds["round"] > 0]
    return rounds.groupby(["setting", "strategy", "seed"], as_index=False).agg(
        mean_accuracy=("accuracy", "mean"),
        round_query_seconds=("query_seconds", "mean"),
        query_seconds=("query_seconds", "sum"),
    )


def fig5(ctx: Context) -> list[Table]:
    """Fig. 5: mean accuracy over acquisition rounds minus Random's (pp), query time."""
    baseline = ctx.options.baseline
    per = _per_trial_rounds(ctx)
    stats = per.groupby(["setting", "strategy"], as_index=False)[
        ["mean_accuracy", "round_query_seconds"]
    ].mean()
    reference = stats[stats["strategy"] == baseline].set_index("setting")["mean_accuracy"]
    stats = stats[stats["setting"].isin(reference.index)]
    if stats.empty:
        raise Missing(f"needs '{baseline}' runs in the same settings")
    stats["improvement_pp"] = 100 * (stats["mean_accuracy"] - stats["setting"].map(reference))
    frame = _overall(ctx).merge(stats, on=["setting", "strategy"])
    display = _wide(
        frame,
        {
            "Δacc pp": lambda r: f"{r['improvement_pp']:+.2f}",
            "query s/round": lambda r: cell(r["round_query_seconds"], 2),
        },
    )
    title = (
        f"FALCUN Fig. 5 layout: mean accuracy over acquisition rounds minus {baseline}'s "
        "(percentage points) and query seconds per round (ours only)"
    )
    return [Table("falcun_fig5", title, frame.drop(columns=["config"]), display)]


def _falcun_label(config: dict) -> str:
    gamma = config.get("strategy.gamma")
    gamma = "det." if gamma == "det" else f"{float(gamma):g}"
    u = "u" if config.get("strategy.uncertainty", True) else "-"
    d = "d" if config.get("strategy.diversity", True) else "-"
    return f"gamma={gamma} {u}(x) {d}(x)"


def table3(ctx: Context) -> list[Table]:
    """Table 3: FALCUN variants x mean accuracy (%) at the paper's budgets per dataset."""
    frame = variant_rows(
        _overall(ctx),
        "falcun",
        "column",
        ctx.options.baseline,
        "strategy.gamma / strategy.uncertainty / strategy.diversity",
    )
    frame = frame.assign(paper_name=[display_name(c) for c in frame["config"]])
    rounds = ctx.rounds.merge(
        frame[["setting", "strategy", "column", "paper_name"]], on=["setting", "strategy"]
    )
    sizes = []
    for column, part in rounds.groupby("column"):
        wanted = TABLE3_SIZES.get(part["paper_name"].iloc[0], ())
        present = [n for n in wanted if (part["n_labeled"] == n).any()]
        sizes += [(column, n) for n in (present or [int(part["n_labeled"].max())])]
    hit = rounds.merge(
        pd.DataFrame(sizes, columns=["column", "n_labeled"]), on=["column", "n_labeled"]
    )
    stats = hit.groupby(["setting", "strategy", "column", "n_labeled"], as_index=False)[
        "accuracy"
    ].agg(["mean", "std", "size"])
    labels = {
        row.strategy: (_falcun_label(row.config) if row.base_strategy == "falcun" else row.strategy)
        for row in frame.itertuples()
    }
    stats["variant"] = stats["strategy"].map(labels)
    display = (
        stats.pivot_table(
            index="variant", columns=["column", "n_labeled"], values="mean", aggfunc="first"
        )
        * 100
    )
    display.columns = [f"{c} @{n}" for c, n in display.columns]
    title = (
        "FALCUN Table 3 layout: mean test accuracy (%) per gamma / u(x) / d(x) at the paper's "
        "budgets"
    )
    return [Table("falcun_table3", title, stats, display.reset_index(), 2)]


def _query_times(ctx: Context) -> pd.DataFrame:
    """Per (dataset, strategy name): min and max over settings of the mean cumulated query
    time, and the settings those settings share."""
    per = _per_trial_rounds(ctx)
    cumulated = per.groupby(["setting", "strategy"], as_index=False)["query_seconds"].mean()
    cumulated = cumulated.merge(
        ctx.cells[["setting", "strategy", "base_strategy", "config"]], on=["setting", "strategy"]
    )
    cumulated["dataset"] = [display_name(c) for c in cumulated["config"]]
    return cumulated.groupby(["dataset", "base_strategy"], as_index=False).agg(
        query_seconds_min=("query_seconds", "min"),
        query_seconds_max=("query_seconds", "max"),
        settings=("query_seconds", "size"),
        config=("config", lambda configs: common_settings(list(configs))),
    )


def _duration(seconds: float) -> str:
    if np.isnan(seconds):
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} sec"
    return f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:.1f} hrs"


def table2(ctx: Context) -> list[Table]:
    times = _query_times(ctx)
    if times.empty:
        raise Missing("no acquisition round")
    rows = []
    rank = {name: k for k, name in enumerate(ORDER)}
    for strategy in sorted(set(times["base_strategy"]), key=lambda s: (rank.get(s, len(ORDER)), s)):
        row = {"strategy": strategy}
        for item in times[times["base_strategy"] == strategy].itertuples():
            row[f"{item.dataset} min"] = _duration(item.query_seconds_min)
            row[f"{item.dataset} max"] = _duration(item.query_seconds_max)
        rows.append(row)
    title = "FALCUN Table 2 layout: min / max over settings of the average cumulated query time"
    return [Table("falcun_table2", title, times, pd.DataFrame(rows).fillna("—"))]


def dueling(ctx: Context) -> list[Table | Figure]:
    result = tables.dueling(ctx.rounds, ctx.options.alpha)
    if result.comparisons.to_numpy().sum() == 0:
        raise Missing(
            "needs two strategies with two or more trials of the same seeds in one setting"
        )
    title = (
        f"FALCUN Fig. 4: dueling matrix (% of (setting, round) paired t-tests the row wins, "
        f"alpha={ctx.options.alpha}; a figure in the paper: ours only)"
    )
    return [
        Table("falcun_dueling_matrix", title, tables.dueling_table(result), digits=1),
        Table(
            "falcun_dueling_comparisons",
            "Dueling matrix: number of comparisons per pair",
            result.comparisons.rename_axis("strategy").reset_index(),
        ),
        Figure(
            "dueling_matrix",
            "Dueling matrix (figure)",
            lambda out: figures.dueling_figure(result, out),
        ),
    ]


def ours(ctx: Context) -> pd.DataFrame:
    """Accuracy at every labeled-set size (Table 3) and the query-time extremes (Table 2)."""
    rounds = ctx.rounds
    if rounds.empty:
        raise Missing("no complete run with acquisition")
    stats = rounds.groupby(["setting", "strategy", "n_labeled"], as_index=False)["accuracy"].agg(
        ["mean", "std", "size"]
    )
    stats = stats.merge(ctx.cells[["setting", "strategy", "config"]], on=["setting", "strategy"])
    parts = [long_rows(stats.rename(columns={"size": "trials"}), "accuracy", "mean", "std")]
    times = _query_times(ctx).rename(columns={"base_strategy": "strategy", "settings": "trials"})
    times["setting"] = "all settings of " + times["dataset"]
    parts += [
        long_rows(times, metric, metric) for metric in ("query_seconds_min", "query_seconds_max")
    ]
    return concat_long(parts)


FAMILY = Family(
    name="falcun",
    title="FALCUN, fast uncertainty- and diversity-based AL",
    builders=(
        ("Fig. 2 (grayscale images)", _group("gray")),
        ("Fig. 2 (colour images)", _group("color")),
        ("Fig. 2 (tabular data)", _group("tabular")),
        ("Fig. 3 (RepeatedMNIST)", redundancy),
        ("Fig. 4 (dueling matrix)", dueling),
        ("Fig. 5", fig5),
        ("Table 2", table2),
        ("Table 3", table3),
    ),
    ours=ours,
    versus_name="falcun_vs_paper",
    papers=("falcun",),
)
