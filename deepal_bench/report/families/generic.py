"""The generic report (`deepal-bench-report`): every table kind over any records.

AUBC / F-acc / time ratio with the Full row (DeepAL+ Tables 1, 4-7 layout), first / last
cycle and AUCA ratio (RALIF Table 2), win-tie-loss (DeepAL+ Table 9), AUBC significance
against the baseline, group accuracies (DeepAL+ Table 8), the dueling matrix (FALCUN
Fig. 4), label-permutation p-values (RALIF Table 7), accuracy curves and AUCA-ratio box
plots; the cost next to the gain (AUBC against total seconds with the Pareto front per
setting, deepal-bench-plan's estimate beside the measured seconds); ours next to every
published cell of every paper with the same settings.
"""

from functools import partial

import pandas as pd

from deepal_bench.metrics.groups import MISMATCH, WORST_GROUP
from deepal_bench.report import cost, figures, tables
from deepal_bench.report.cost import pareto_front
from deepal_bench.report.family import (
    Context,
    Family,
    Figure,
    Missing,
    Table,
    concat_long,
    long_rows,
)
from deepal_bench.report.formats import pm
from deepal_bench.report.permutation import permutation_table
from deepal_bench.sweeps.throughput import ThroughputTable


def _pm(frame: pd.DataFrame, metric: str, digits: int = 4) -> list[str]:
    return [
        pm(m, s, digits)
        for m, s in zip(frame[f"{metric}_mean"], frame[f"{metric}_std"], strict=True)
    ]


def full_table(ctx: Context) -> pd.DataFrame:
    """F-acc of the reference runs without acquisition, per dataset and model."""
    return tables.full_table(ctx.full_trials)


def _full_rows(setting: str, part: pd.DataFrame, full: pd.DataFrame) -> list[list]:
    dataset, model = part["dataset"].iloc[0], part["model"].iloc[0]
    reference = full[(full["dataset"] == dataset) & (full["model"] == model)]
    return [
        [
            setting,
            f"Full (n={ref.n_labeled})",
            ref.trials,
            "—",
            pm(ref.f_acc_mean, ref.f_acc_std),
            "—",
            "—",
            "—",
        ]
        for ref in reference.itertuples()
    ]


def seconds(mean: float, std: float) -> str:
    """`mean ± std` seconds to 3 significant digits (an em dash when unknown)."""
    return "—" if pd.isna(mean) else f"{mean:.3g} ± {std:.2g}"


DEEPAL_COLUMNS = [
    "setting",
    "strategy",
    "trials",
    "AUBC",
    "F-acc",
    "Time",
    "Query s/round",
    "Total s",
]


def deepal_display(overall: pd.DataFrame, full: pd.DataFrame) -> pd.DataFrame:
    """DeepAL+ Tables 1/4-7 layout: AUBC, F-acc, Time (ratio to the baseline) per setting,
    beside them the cost: mean query seconds per round and total seconds per trial; Full
    row where known."""
    rows = []
    for setting, part in overall.groupby("setting", sort=True):
        rows += _full_rows(setting, part, full)
        for row in part.sort_values("aubc_mean", ascending=False).itertuples():
            time = "—" if pd.isna(row.time_ratio) else f"{row.time_ratio:.2f}"
            rows.append(
                [
                    setting,
                    row.strategy,
                    row.trials,
                    pm(row.aubc_mean, row.aubc_std),
                    pm(row.f_acc_mean, row.f_acc_std),
                    time,
                    seconds(row.query_seconds_mean, row.query_seconds_std),
                    seconds(row.total_seconds_mean, row.total_seconds_std),
                ]
            )
    return pd.DataFrame(rows, columns=DEEPAL_COLUMNS)


def aubc_facc(ctx: Context) -> list[Table]:
    overall, full = ctx.overall, full_table(ctx)
    title = "AUBC, F-acc and time ratio (DeepAL+ Tables 1, 4-7)"
    items = [Table("aubc_facc", title, overall, deepal_display(overall, full))]
    if len(full):
        items.append(Table("full", "Full-data reference runs", full))
    return items


def cycles_auca(ctx: Context) -> list[Table]:
    """RALIF Table 2 layout: first- and last-cycle accuracy and AUCA ratio, mean ± std."""
    overall = ctx.overall
    display = overall[["setting", "strategy", "trials"]].assign(
        **{
            "First cycle": _pm(overall, "first_acc"),
            "Last cycle": _pm(overall, "last_acc"),
            "AUCA ratio": _pm(overall, "auca_ratio", 3),
        }
    )
    title = f"First/last cycle and AUCA ratio vs {ctx.options.baseline} (RALIF Table 2)"
    return [Table("cycles_auca", title, overall, display)]


def win_tie_loss(ctx: Context) -> list[Table]:
    overall = ctx.overall
    if overall["strategy"].nunique() < 2:
        raise Missing("needs two strategies")
    title = f"Win-tie-loss on mean AUBC, margin {ctx.options.margin} (DeepAL+ Table 9)"
    return [Table("win_tie_loss", title, tables.win_tie_loss_table(overall, ctx.options.margin))]


def _acquisition_rounds(ctx: Context) -> pd.DataFrame:
    if ctx.rounds.empty:
        raise Missing("no complete run with acquisition")
    return ctx.rounds


def significance(ctx: Context) -> list[Table]:
    _acquisition_rounds(ctx)
    table = tables.significance_table(ctx.trials, ctx.options.baseline)
    if table.empty:
        raise Missing(f"needs '{ctx.options.baseline}' and another strategy in one setting")
    title = f"AUBC vs {ctx.options.baseline}: paired t-test and Wilcoxon"
    return [Table("significance", title, table)]


def _group_display(groups: pd.DataFrame) -> pd.DataFrame:
    """DeepAL+ Table 8 layout: AUBC and F-acc of mismatch and worst-group accuracy."""
    frame = groups[["setting", "strategy"]].copy()
    for column, title in ((MISMATCH, "mismatch"), (WORST_GROUP, "worst group")):
        for metric, name in (("aubc", "AUBC"), ("f_acc", "F-acc")):
            if f"{column}_{metric}_mean" in groups:
                frame[f"{title} {name}"] = _pm(groups, f"{column}_{metric}")
    return frame


def group_accuracies(ctx: Context) -> list[Table]:
    groups = tables.group_table(_acquisition_rounds(ctx))
    if groups.empty:
        raise Missing(f"no {MISMATCH} / {WORST_GROUP} columns in rounds.csv")
    title = "Mismatch and worst-group accuracy (DeepAL+ Table 8)"
    return [Table("groups", title, groups, _group_display(groups))]


def dueling(ctx: Context) -> list[Table | Figure]:
    duel = tables.dueling(_acquisition_rounds(ctx), ctx.options.alpha)
    if duel.comparisons.to_numpy().sum() == 0:
        raise Missing("needs two strategies with two or more trials of the same seeds")
    title = f"Dueling matrix, paired t-test at alpha={ctx.options.alpha} (FALCUN Fig. 4)"
    return [
        Table("dueling_matrix", title, tables.dueling_table(duel)),
        Figure("dueling_matrix", "Dueling matrix", lambda out: figures.dueling_figure(duel, out)),
    ]


def permutation(ctx: Context) -> list[Table]:
    o = ctx.options
    table = permutation_table(ctx.labelled_cells, o.reference_strategy, o.baseline, o.permutations)
    if table.empty:
        raise Missing("needs runs recorded with store_predictions=true")
    title = "Label-permutation p-values, worst trial (RALIF Table 7)"
    return [Table("permutation", title, table)]


def _setting_curves(ctx: Context, setting: str, out) -> list:
    """The setting's accuracy curves and its group-accuracy curves where recorded."""
    rounds, summary = ctx.rounds, tables.summary_table(ctx.trials)
    paths = figures.curve_figure(rounds, summary, setting, out)
    part = rounds[rounds["setting"] == setting]
    for column in (MISMATCH, WORST_GROUP):
        if column in part and part[column].notna().any():
            paths += figures.curve_figure(rounds, summary, setting, out, column)
    return paths


def curves(ctx: Context) -> list[Figure]:
    """Per setting its accuracy curves; the AUCA ratios of every setting in one figure."""
    rounds = _acquisition_rounds(ctx)
    items = [
        Figure(
            "curves",
            "Accuracy curves (DeepAL+ Fig. 5)",
            partial(_setting_curves, ctx, setting),
            setting,
        )
        for setting in sorted(rounds["setting"].unique())
    ]
    ratios = tables.auca_ratio_table(rounds, ctx.options.baseline)
    if len(ratios):
        title = f"AUCA ratio vs {ctx.options.baseline} over trials (RALIF Fig. 3)"
        items.append(Figure("auca_ratio", title, lambda out: figures.auca_boxplot(ratios, out)))
    return items


def cost_figures(ctx: Context) -> list[Figure]:
    """Per setting, AUBC against total seconds per strategy with the Pareto front."""
    overall = ctx.overall
    items = []
    for setting, part in overall.groupby("setting", sort=True):
        frame = part.assign(on_front=pareto_front(part["total_seconds_mean"], part["aubc_mean"]))
        draw = partial(figures.cost_figure, frame, setting)
        items.append(Figure("cost", "AUBC against total compute", draw, setting))
    return items


def _plan_display(table: pd.DataFrame) -> pd.DataFrame:
    def number(value: float) -> str:
        return "unknown" if pd.isna(value) else f"{value:.3g}"

    return table[["setting", "strategy", "trials", "device"]].assign(
        **{
            "plan (h)": table["plan_hours"].map(number),
            "measured (h)": table["measured_hours"].map(number),
            "measured (s)": table["measured_seconds"].map(number),
            "measured / plan": table["measured_over_plan"].map(number),
            "note": table["note"],
        }
    )


def plan_vs_measured(ctx: Context) -> list[Table]:
    """deepal-bench-plan's device-hours for each cell's runs beside what they took."""
    if ctx.trials.empty:
        raise Missing("no complete run with acquisition")
    table = cost.plan_vs_measured(ctx.labelled_cells, ctx.trials, ThroughputTable.read())
    title = "deepal-bench-plan's estimate vs the measured cost (total seconds)"
    notes = [
        "plan: device-hours of the runs' configs on the device kind their provenance "
        "records (deepal-bench-plan, sweeps/throughput.csv); measured: train + query + eval "
        "seconds summed over trials."
    ]
    return [Table("plan_vs_measured", title, table, _plan_display(table), notes=notes)]


def ours(ctx: Context) -> pd.DataFrame:
    """AUBC, F-acc, time ratio, first / last cycle, AUCA ratio, and the Full F-acc."""
    if ctx.trials.empty:
        return concat_long([full_rows(ctx)])
    overall = ctx.overall
    parts = [
        long_rows(overall, m, f"{m}_mean", f"{m}_std")
        for m in ("aubc", "f_acc", "first_acc", "last_acc", "auca_ratio")
    ]
    parts.append(long_rows(overall, "time_ratio", "time_ratio"))
    return concat_long([*parts, full_rows(ctx)])


def full_rows(ctx: Context) -> pd.DataFrame:
    """The F-acc of every reference cell without acquisition, as a `full` row."""
    full = ctx.full_trials
    if full.empty:
        return full
    stats = full.groupby(["setting", "strategy"], as_index=False).agg(
        ours_mean=("f_acc", "mean"), ours_std=("f_acc", "std"), trials=("f_acc", "size")
    )
    stats = stats.merge(
        ctx.full_cells[["setting", "strategy", "config"]], on=["setting", "strategy"]
    )
    return long_rows(stats, "f_acc", "ours_mean", "ours_std", strategy="full")


FAMILY = Family(
    name="report",
    title="deepal-bench report",
    builders=(
        ("AUBC, F-acc, time ratio", aubc_facc),
        ("first/last cycle, AUCA ratio", cycles_auca),
        ("win-tie-loss", win_tie_loss),
        ("significance", significance),
        ("group accuracies", group_accuracies),
        ("dueling matrix", dueling),
        ("permutation tests", permutation),
        ("curves", curves),
        ("cost figures", cost_figures),
        ("plan vs measured", plan_vs_measured),
    ),
    ours=ours,
    versus_name="paper_comparison",
)
