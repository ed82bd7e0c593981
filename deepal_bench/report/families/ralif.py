"""RALIF (reliable active learning via influence functions): Tables 1-7.

- Tables 2 and 5: per scenario (dataset, B = per-cycle batch, model) first- and last-cycle
  accuracy (%) and AUCA ratio vs Random, mean ± std over trials, then the Average rows
  (mean ± population std over scenarios of the per-scenario means, as the paper
  averages its nine).
- Tables 1, 3, 4: the same columns for RALIF variants of one scenario (candidate selection
  `strategy.variant`, diversity `strategy.diversity`, threshold `strategy.tau`).
- Table 6: accuracy (%) at 1000, 3000, ..., 9000 labeled points.
- Table 7: label-permutation p-values of the reference (RALIF) against every other strategy,
  the largest over trials (needs `store_predictions=true`), and the bottom row of Table 2:
  the share of (strategy, scenario) pairs with p < alpha.
"""

import pandas as pd

from deepal_bench.report.family import (
    Context,
    Family,
    Missing,
    Table,
    concat_long,
    long_rows,
    ordered,
    variant_rows,
    variant_suffix,
)
from deepal_bench.report.formats import pm
from deepal_bench.report.permutation import permutation_table
from deepal_bench.report.published import compare
from deepal_bench.results.cells import common_settings

ORDER = ["random", "entropy", "kcenter", "badge", "grad_norm", "ralif"]
PAPER_NAMES = dict(
    zip(ORDER, ["Random", "Uncertainty", "Coreset", "BADGE", "Grad-Norm", "RALIF"], strict=True)
)
DATASETS = {
    "cifar10": "Cifar10",
    "cifar100": "Cifar100",
    "inaturalist": "iNaturalist",
    "svhn": "SVHN",
}
TABLE6_SIZES = (1000, 3000, 5000, 7000, 9000)
P_COLUMNS = ("first_p", "last_p", "auca_ratio_p")
CYCLE_METRICS = ("first_acc", "last_acc", "auca_ratio")


def _model(config: dict) -> str:
    name = str(config.get("model.name"))
    if name == "resnet18":
        return "ResNet18" if config.get("model.pretrained") else "ResNet18 (scratch)"
    return f"{name} (pretrained)" if config.get("model.pretrained") else name


def _scenarios(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds the paper's scenario columns: Dataset, B, model (+ distinguishing keys)."""
    frame = frame.copy()
    frame["Dataset"] = [DATASETS.get(label, label) for label in frame["label"]]
    frame["B"] = frame["batch"]
    frame["model_label"] = [_model(c) for c in frame["config"]]
    frame["base"] = frame["Dataset"] + "/" + frame["B"].astype(str) + "/" + frame["model_label"]
    suffix = variant_suffix(frame, "base")
    frame["scenario"] = frame["base"] + suffix
    frame["models"] = frame["model_label"] + suffix
    return frame


def _cycles(frame: pd.DataFrame) -> pd.DataFrame:
    """First / Last cycle (%) and AUCA ratio cells, mean ± std as the paper prints them."""
    return pd.DataFrame(
        {
            "First cycle": [
                pm(100 * m, 100 * s, 2)
                for m, s in zip(frame["first_acc_mean"], frame["first_acc_std"], strict=True)
            ],
            "Last cycle": [
                pm(100 * m, 100 * s, 2)
                for m, s in zip(frame["last_acc_mean"], frame["last_acc_std"], strict=True)
            ],
            "AUCA ratio": [
                pm(m, s, 3)
                for m, s in zip(frame["auca_ratio_mean"], frame["auca_ratio_std"], strict=True)
            ],
        },
        index=frame.index,
    )


def averages(overall: pd.DataFrame) -> pd.DataFrame:
    """Per strategy: mean and population std (ddof 0) over scenarios of the per-scenario
    means; the paper's Average rows are reproduced by ddof 0 from its Tables 2 and 5."""
    rows = []
    for strategy, part in overall.groupby("strategy", sort=False):
        row = {
            "strategy": strategy,
            "base_strategy": part["base_strategy"].iloc[0],
            "settings": len(part),
            "config": common_settings(list(part["config"])),
        }
        for metric in CYCLE_METRICS:
            values = part[f"{metric}_mean"]
            row[f"{metric}_mean"] = values.mean()
            row[f"{metric}_std"] = values.std(ddof=0)
        rows.append(row)
    return pd.DataFrame(rows)


def paper_scenarios(ctx: Context, overall: pd.DataFrame) -> set[str]:
    """Our settings that are one of the paper's scenarios: a cell of them has every
    setting of a published Table 2 or 5 cell."""
    published = ctx.published
    published = published[(published["paper"] == "ralif") & published["table"].isin(["2", "5"])]
    rows = long_rows(overall, "first_acc", "first_acc_mean", "first_acc_std")
    matched = compare(rows, published[published["metric"] == "first_acc"]).matched
    return set(matched["setting"])


def _paper_names(frame: pd.DataFrame) -> list[str]:
    return [PAPER_NAMES.get(base, "") for base in frame["base_strategy"]]


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    order = {name: k for k, name in enumerate(ordered(frame.drop_duplicates("strategy"), ORDER))}
    return (
        frame.assign(_o=frame["strategy"].map(order))
        .sort_values(["scenario", "_o"])
        .drop(columns="_o")
    )


def table2(ctx: Context) -> list[Table]:
    frame = _sorted(_scenarios(ctx.overall))
    display = frame[["Dataset", "B", "models", "strategy"]].rename(columns={"models": "model"})
    display.insert(4, "method", _paper_names(frame))
    display.insert(5, "trials", frame["trials"])
    display = pd.concat([display, _cycles(frame)], axis=1)
    average = averages(frame)
    order = ordered(frame.drop_duplicates("strategy"), ORDER)
    average = average.set_index("strategy").loc[order].reset_index()
    rows = pd.DataFrame(
        {
            "Dataset": [f"Average ({n} scenarios)" for n in average["settings"]],
            "B": "",
            "model": "",
            "strategy": average["strategy"],
            "method": _paper_names(average),
            "trials": "",
        }
    )
    display = pd.concat([display, pd.concat([rows, _cycles(average)], axis=1)], ignore_index=True)
    data = frame.drop(columns=["config"])
    notes = []
    if frame["auca_ratio_mean"].isna().all():
        notes.append(f"AUCA ratio needs '{ctx.options.baseline}' runs in the same scenario.")
    title = (
        f"RALIF Tables 2 and 5 (first/last cycle accuracy %, AUCA ratio vs "
        f"{ctx.options.baseline}; mean ± std over trials; Average over scenarios)"
    )
    return [Table("ralif_table2", title, data, display, notes=notes)]


def ablation(ctx: Context) -> list[Table]:
    """Tables 1, 3, 4: RALIF variants (candidate selection, diversity, tau) per scenario."""
    frame = variant_rows(
        _scenarios(ctx.overall),
        "ralif",
        "scenario",
        ctx.options.baseline,
        "strategy.variant, strategy.diversity or strategy.tau",
    )
    frame = _sorted(frame)
    options = pd.DataFrame(
        {
            "variant": [c.get("strategy.variant", "") for c in frame["config"]],
            "diversity": [c.get("strategy.diversity", "") for c in frame["config"]],
            "tau": [
                ("4/K" if c.get("strategy.tau") is None else c.get("strategy.tau"))
                if c.get("strategy.name") == "ralif"
                else ""
                for c in frame["config"]
            ],
        },
        index=frame.index,
    )
    display = pd.concat(
        [frame[["scenario", "strategy", "trials"]], options, _cycles(frame)], axis=1
    )
    title = "RALIF Tables 1, 3, 4 (RALIF variants: candidate selection, diversity, tau)"
    return [Table("ralif_ablation", title, frame.drop(columns=["config"]), display)]


def _accuracy_at(ctx: Context, sizes) -> pd.DataFrame:
    rounds = ctx.rounds
    hit = rounds[rounds["n_labeled"].isin(sizes)]
    if hit.empty:
        return pd.DataFrame()
    stats = hit.groupby(["setting", "strategy", "n_labeled"])["accuracy"].agg(
        ["mean", "std", "size"]
    )
    stats = stats.reset_index().rename(
        columns={"mean": "accuracy_mean", "std": "accuracy_std", "size": "trials"}
    )
    return stats.merge(ctx.cells.rename(columns={"dataset": "label"}), on=["setting", "strategy"])


def table6(ctx: Context) -> list[Table]:
    stats = _accuracy_at(ctx, TABLE6_SIZES)
    if stats.empty:
        raise Missing(f"no round at {', '.join(map(str, TABLE6_SIZES))} labeled points")
    stats = _scenarios(stats)
    display = (
        stats.pivot_table(
            index=["scenario", "strategy"],
            columns="n_labeled",
            values="accuracy_mean",
            aggfunc="first",
        )
        * 100
    )
    display.columns = [str(c) for c in display.columns]
    title = "RALIF Table 6 (accuracy % at 1000-9000 labeled points; ISAL rows: paper only)"
    return [Table("ralif_table6", title, stats.drop(columns=["config"]), display.reset_index(), 2)]


def _permutations(ctx: Context) -> pd.DataFrame:
    reference, baseline = ctx.options.reference_strategy, ctx.options.baseline
    perm = permutation_table(ctx.labelled_cells, reference, baseline, ctx.options.permutations)
    if perm.empty:
        raise Missing(
            f"needs '{reference}' and '{baseline}' runs of one scenario recorded "
            "with store_predictions=true"
        )
    cells = ctx.cells.rename(columns={"dataset": "label"})
    return _scenarios(perm.merge(cells, on=["setting", "strategy"]))


def table7(ctx: Context) -> list[Table]:
    perm = _permutations(ctx)
    perm = _sorted(perm)
    display = perm[["scenario", "reference", "strategy", "trials", *P_COLUMNS]]
    title = (
        f"RALIF Table 7 ({ctx.options.reference_strategy} vs each strategy: label-permutation "
        f"p-values, {ctx.options.permutations} permutations, largest over trials)"
    )
    share = significance(perm, ctx.options.alpha)
    shown = pd.DataFrame(
        {
            "": [
                f"{ctx.options.reference_strategy} is statistically significant "
                f"(p < {ctx.options.alpha})"
            ],
            **{
                item.column: [f"{item.count}/{item.total} ({100 * item.share:.2f}%)"]
                for item in share.itertuples()
            },
        }
    )
    return [
        Table("ralif_table7", title, perm.drop(columns=["config"]), display, 3),
        Table("ralif_significance", "RALIF Table 2, bottom row (from Table 7)", share, shown),
    ]


def significance(perm: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Per p-value column: how many (strategy, scenario) pairs have p < alpha, and the share."""
    rows = []
    for column in P_COLUMNS:
        count, total = int((perm[column] < alpha).sum()), int(perm[column].notna().sum())
        rows.append(
            {
                "column": column,
                "count": count,
                "total": total,
                "share": count / total if total else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def _average_rows(ctx: Context, overall: pd.DataFrame) -> list[pd.DataFrame]:
    """The Average rows over the paper's scenarios we ran, with their common settings."""
    average = averages(overall[overall["setting"].isin(paper_scenarios(ctx, overall))])
    if average.empty:
        return []
    setting = [f"Average over {n} of the paper's 9 scenarios" for n in average["settings"]]
    average = average.assign(setting=setting, trials=average["settings"])
    return [long_rows(average, f"average_{m}", f"{m}_mean", f"{m}_std") for m in CYCLE_METRICS]


def _permutation_rows(ctx: Context) -> list[pd.DataFrame]:
    """Table 7's p-values per (strategy, scenario) and Table 2's significant shares."""
    try:
        perm = _permutations(ctx)
    except Missing:
        return []
    share = significance(perm, ctx.options.alpha)
    share = share.assign(
        setting="all scenarios",
        strategy=ctx.options.reference_strategy,
        trials=share["total"],
        config=[{}] * len(share),
    )
    return [
        *(long_rows(perm, column, column) for column in P_COLUMNS),
        *(
            long_rows(share[share["column"] == column], f"significant_share_{column}", "share")
            for column in P_COLUMNS
        ),
    ]


def ours(ctx: Context) -> pd.DataFrame:
    """First/last accuracy, AUCA ratio (per scenario and averaged), accuracy at Table 6's
    sizes, permutation p-values and their significant shares, as long rows."""
    overall = ctx.overall
    parts = [long_rows(overall, m, f"{m}_mean", f"{m}_std") for m in CYCLE_METRICS]
    stats = _accuracy_at(ctx, TABLE6_SIZES)
    if len(stats):
        parts.append(long_rows(stats, "accuracy", "accuracy_mean", "accuracy_std"))
    return concat_long([*parts, *_average_rows(ctx, overall), *_permutation_rows(ctx)])


FAMILY = Family(
    name="ralif",
    title="RALIF, reliable active learning via influence functions",
    builders=(
        ("Tables 2 and 5", table2),
        ("Tables 1, 3, 4 (RALIF variants)", ablation),
        ("Table 6", table6),
        ("Table 7", table7),
    ),
    ours=ours,
    versus_name="ralif_vs_paper",
    papers=("ralif",),
)
