"""DMLE (Kalkanlı et al.): Tables 2, 4, 5 (DMLE vs IMLE at N_L), Table 3 (times), §5.2.

- Tables 2 / 4 / 5: acquisition entropy / BALD / least confidence; per dataset and k a cell
  per selection (SSMS, SPS, SSRS, Top-k): DMLE vs IMLE mean ± std over seeds at N_L and the
  two-sided Wilcoxon signed-rank p over seed pairs (§5.2). Other acquisitions get the same
  layout (not in the paper).
- Table 3: mean elapsed time per run (our total_seconds: train + query + evaluation),
  DMLE vs IMLE, per k and selection.
- §5.2 / App. F: mean relative improvement (DMLE - IMLE) / IMLE per selection and per k,
  and the share of experiments where DMLE beats IMLE with p < alpha (paper: 92%).
- Fig. 3: accuracy over cycles, DMLE vs IMLE.
"""

import pandas as pd

from deepal_bench.report import dmle_comparison as dmle
from deepal_bench.report.family import (
    Context,
    Family,
    Figure,
    Missing,
    Table,
    concat_long,
    long_rows,
)
from deepal_bench.results.cells import common_settings

TABLES = {"entropy": "2", "bald": "4", "least_confidence": "5"}


def _runs(ctx: Context):
    return [run for cell in ctx.records.cells for run in cell.runs]


def comparison(ctx: Context) -> pd.DataFrame:
    """`dmle.comparison_table` at N_L (empty when no DMLE/IMLE pair reaches it)."""
    return dmle.comparison_table(dmle.final_accuracies(_runs(ctx), ctx.options.n_labeled))


def _accuracy_table(strategy: str, number: str):
    def build(ctx: Context) -> list[Table]:
        table = comparison(ctx)
        table = table[table["strategy"] == strategy] if len(table) else table
        if table.empty:
            raise Missing(
                f"no paired dmle / imle runs of strategy '{strategy}' reaching "
                f"N_L={ctx.options.n_labeled}"
            )
        title = (
            f"DMLE Table {number} ({strategy}: DMLE vs IMLE accuracy at "
            f"N_L={ctx.options.n_labeled}, mean ± std over seeds, Wilcoxon p)"
        )
        return [Table(f"dmle_table{number}", title, table, dmle.display_table(table))]

    return build


def other_strategies(ctx: Context) -> list[Table]:
    """Acquisitions outside Tables 2 / 4 / 5, same layout (nothing when none)."""
    table = comparison(ctx)
    if table.empty:
        return []
    table = table[~table["strategy"].isin(TABLES)]
    if table.empty:
        return []
    title = f"DMLE vs IMLE at N_L={ctx.options.n_labeled}, other acquisitions (not in the paper)"
    return [Table("dmle_other", title, table, dmle.display_table(table))]


def _significant(table: pd.DataFrame, alpha: float) -> pd.Series:
    return (table["diff_mean"] > 0) & (table["p_two_sided"] < alpha)


def summary(ctx: Context) -> list[Table]:
    table = comparison(ctx)
    if table.empty:
        raise Missing(f"no paired dmle / imle runs reaching N_L={ctx.options.n_labeled}")
    by_selection, by_k = dmle.improvements(table)
    by_selection = by_selection.rename(columns={"selection": "group"}).assign(by="selection")
    by_k = by_k.rename(columns={"k": "group"}).assign(by="k")
    frame = pd.concat([by_selection, by_k], ignore_index=True)[
        ["strategy", "by", "group", "experiments", "relative_improvement"]
    ]
    significant = _significant(table, ctx.options.alpha)
    title = (
        f"DMLE §5.2 / App. F: mean relative improvement (DMLE - IMLE) / IMLE in %; DMLE "
        f"significantly better (Wilcoxon p < {ctx.options.alpha}) in {int(significant.sum())}"
        f" of {len(table)} experiments"
    )
    return [Table("dmle_improvements", title, frame, digits=2)]


def _times(ctx: Context) -> pd.DataFrame:
    """Mean total seconds per run trial, per (dataset, strategy, k, selection, estimator)."""
    cells = ctx.cells[["setting", "strategy", "base_strategy", "dataset", "config"]]
    trials = ctx.trials.drop(columns=["dataset"]).merge(cells, on=["setting", "strategy"])
    trials["estimator"] = [c.get("estimator.name") for c in trials["config"]]
    trials["selection"] = [c.get("selection.name") for c in trials["config"]]
    trials = trials.rename(columns={"batch": "k", "dataset": "label"})
    return trials.groupby(
        ["label", "base_strategy", "k", "selection", "estimator"], as_index=False
    ).agg(total_seconds=("total_seconds", "mean"), trials=("total_seconds", "size"))


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{seconds % 60:05.2f} min"


def table3(ctx: Context) -> list[Table]:
    times = _times(ctx)
    wide = times.pivot_table(
        index=["label", "base_strategy", "k", "selection"],
        columns="estimator",
        values="total_seconds",
    ).reset_index()
    if not {"dmle", "imle"} <= set(wide.columns):
        raise Missing("needs dmle and imle runs of the same setting")
    wide = wide.dropna(subset=["dmle", "imle"])
    display = wide[["label", "base_strategy", "k", "selection"]].rename(
        columns={"label": "dataset", "base_strategy": "strategy"}
    )
    display["DMLE time"] = wide["dmle"].map(_minutes)
    display["IMLE time"] = wide["imle"].map(_minutes)
    display["DMLE - IMLE (s)"] = (wide["dmle"] - wide["imle"]).round(2)
    title = "DMLE Table 3 layout: mean elapsed time per run (train + query + evaluation)"
    return [Table("dmle_table3", title, wide, display)]


def curves(ctx: Context) -> list[Figure]:
    runs = _runs(ctx)
    if dmle.curves(runs).empty:
        raise Missing("no run")

    def draw(out):
        path = out / "dmle_curves.png"
        dmle.plot_curves(runs, path)
        return [path]

    return [Figure("dmle_curves", "DMLE Fig. 3: accuracy over cycles, DMLE vs IMLE", draw)]


def ours(ctx: Context) -> pd.DataFrame:
    """Accuracy at N_L per cell, mean run time, improvements and the significant share."""
    return concat_long([_accuracy_rows(ctx), _time_rows(ctx), *_improvement_rows(ctx)])


def _cell_stats(ctx: Context, frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Mean, std and trial count of `column` per (setting, strategy), with the cells' settings."""
    stats = frame.groupby(["setting", "strategy"], as_index=False)[column].agg(
        ["mean", "std", "size"]
    )
    stats = stats.merge(ctx.cells[["setting", "strategy", "config"]], on=["setting", "strategy"])
    return stats.rename(columns={"size": "trials"})


def _accuracy_rows(ctx: Context) -> pd.DataFrame:
    """Test accuracy at `--n-labeled` per cell (Tables 2, 4, 5)."""
    rounds = ctx.rounds
    if rounds.empty:
        return rounds
    hit = rounds[rounds["n_labeled"] == ctx.options.n_labeled]
    stats = _cell_stats(ctx, hit, "accuracy")
    return long_rows(stats, "accuracy", "mean", "std", n_labeled=ctx.options.n_labeled)


def _time_rows(ctx: Context) -> pd.DataFrame:
    """Mean run time per cell (Table 3)."""
    trials = ctx.trials
    if trials.empty:
        return trials
    return long_rows(_cell_stats(ctx, trials, "total_seconds"), "total_seconds", "mean", "std")


def _experiment_settings(ctx: Context, table: pd.DataFrame, by: list[str]) -> pd.Series:
    """Per `by` group of the comparison table, the settings its cells (both estimators) share."""
    cells = ctx.cells.assign(
        strategy=ctx.cells["base_strategy"],
        k=ctx.cells["batch"],
        selection=[c.get("selection.name") for c in ctx.cells["config"]],
        dataset=[dmle.dataset_of(c) for c in ctx.cells["config"]],
    )
    chosen = table[dmle.KEYS].merge(cells, on=dmle.KEYS)
    return chosen.groupby(by)["config"].agg(lambda configs: common_settings(list(configs)))


def _improvement_rows(ctx: Context) -> list[pd.DataFrame]:
    """DMLE's relative improvement by selection and by k, and the share of significant
    experiments (§5.2 / App. F), with the settings their experiments share."""
    table = comparison(ctx)
    if table.empty:
        return []
    parts = []
    for frame, by in zip(
        dmle.improvements(table), (["strategy", "selection"], ["strategy", "k"]), strict=True
    ):
        settings = _experiment_settings(ctx, table, by)
        frame = frame.join(settings, on=by).assign(
            setting=f"all experiments of one {by[1]}",
            trials=frame["experiments"],
            fraction=frame["relative_improvement"] / 100,
        )
        parts.append(long_rows(frame, f"relative_improvement_by_{by[1]}", "fraction"))
    share = pd.DataFrame(
        {
            "setting": ["all experiments"],
            "strategy": ["all"],
            "share": [_significant(table, ctx.options.alpha).mean()],
            "trials": [len(table)],
            "config": [{}],
        }
    )
    return [*parts, long_rows(share, "significant_share", "share")]


FAMILY = Family(
    name="dmle",
    title="DMLE, dependency-aware maximum likelihood estimation (Kalkanlı et al.)",
    builders=(
        ("Table 2 (entropy)", _accuracy_table("entropy", "2")),
        ("Table 4 (BALD)", _accuracy_table("bald", "4")),
        ("Table 5 (least confidence)", _accuracy_table("least_confidence", "5")),
        ("other acquisitions", other_strategies),
        ("Table 3 (times)", table3),
        ("§5.2 / App. F averages", summary),
        ("Fig. 3 (curves)", curves),
    ),
    ours=ours,
    versus_name="dmle_vs_paper",
    papers=("dmle",),
)
