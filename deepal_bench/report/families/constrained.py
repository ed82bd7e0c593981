"""Active learning under constrained and noisy data (Pantea): Table 2, Fig. 3, Figs. 4-6.

- Table 2: final test accuracy (%) per noise (None, Gaussian, Salt and Pepper) x model
  (LeNet, ResNet-18), a column per dataset x strategy (Random, Max Entropy, BALD); mean ±
  standard error over trials (§4 reports the standard error).
- Fig. 3 (a table in the paper): test error (%) of supervised learning on the labeled
  budget (runs without acquisition, budget.quota = 0), then of each strategy in the
  "ideal" (1K initial, 10 x 1K) and "constrained" (100 initial, 100 x 10) scenarios.
- Figs. 4-6: accuracy over the labeled-set size per dataset, scenario and noise (the paper
  plots validation accuracy; ours is the recorded test accuracy).

Scenario: "constrained" when budget.initial = 100 and budget.batch = 10, "ideal" when both
are 1000, else the budget.
"""

import numpy as np
import pandas as pd

from deepal_bench.report import figures
from deepal_bench.report.family import (
    Context,
    Family,
    Figure,
    Missing,
    Table,
    concat_long,
    long_rows,
    ordered,
    variant_suffix,
)
from deepal_bench.report.formats import pm

ORDER = ["random", "entropy", "bald"]
STRATEGIES = {"random": "Random", "entropy": "Max Entropy", "bald": "BALD"}
MODELS = {"lenet": "LeNet", "resnet18": "ResNet-18"}
DATASETS = {"mnist": "MNIST", "cifar10": "CIFAR10", "fashionmnist": "Fashion MNIST"}
NOISES = {"gaussian": "Gaussian", "salt_pepper": "Salt and Pepper"}


def scenario(initial: int, batch: int, quota: int) -> str:
    if (initial, batch) == (100, 10):
        return "constrained"
    if (initial, batch) == (1000, 1000):
        return "ideal"
    return f"{initial}+{quota}/{batch}"


def noise(config: dict) -> str:
    kind = config.get("dataset.noise.kind") if config.get("dataset.noise") else None
    return "None" if kind is None else NOISES.get(kind, str(kind))


def _labels(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["Dataset"] = [DATASETS.get(label, label) for label in frame["label"]]
    frame["Scenario"] = [
        scenario(i, b, q)
        for i, b, q in zip(frame["initial"], frame["batch"], frame["quota"], strict=True)
    ]
    frame["Noise"] = [noise(c) for c in frame["config"]]
    frame["Model"] = [
        MODELS.get(str(c.get("model.name")), str(c.get("model.name"))) for c in frame["config"]
    ]
    frame["base"] = (
        frame["Dataset"] + "/" + frame["Scenario"] + "/" + frame["Noise"] + "/" + frame["Model"]
    )
    ignore = ("budget", "dataset.noise", "model.name")
    frame["Model"] += variant_suffix(frame, "base", ignore=ignore)
    return frame


def _stats(ctx: Context) -> pd.DataFrame:
    """Final accuracy per cell: mean, standard error, trials; with the labels."""
    trials = ctx.trials
    if trials.empty:
        raise Missing("no complete run with acquisition")
    stats = trials.groupby(["setting", "strategy"], as_index=False)["f_acc"].agg(
        ["mean", "std", "size"]
    )
    stats["sem"] = stats["std"].fillna(0.0) / np.sqrt(stats["size"])
    cells = ctx.cells.drop(columns=["batch"]).rename(columns={"dataset": "label"})
    stats = stats.merge(cells, on=["setting", "strategy"])
    stats["batch"] = [int(c.get("budget.batch")) for c in stats["config"]]
    return _labels(stats)


def table2(ctx: Context) -> list[Table]:
    stats = _stats(ctx)
    stats["Column"] = [
        f"{d} {STRATEGIES.get(b, s)}"
        for d, b, s in zip(stats["Dataset"], stats["base_strategy"], stats["strategy"], strict=True)
    ]
    dataset_rank = {name: k for k, name in enumerate(DATASETS.values())}
    strategy_rank = {name: k for k, name in enumerate(ORDER)}
    columns = (
        stats.assign(
            d=stats["Dataset"].map(dataset_rank), s=stats["base_strategy"].map(strategy_rank)
        )
        .sort_values(["d", "Dataset", "s", "Column"], na_position="last")["Column"]
        .drop_duplicates()
        .tolist()
    )
    noise_rank = {name: k for k, name in enumerate(["None", *NOISES.values()])}
    model_rank = {name: k for k, name in enumerate(MODELS.values())}
    stats = stats.assign(n=stats["Noise"].map(noise_rank), m=stats["Model"].map(model_rank))
    stats = stats.sort_values(["Scenario", "n", "Noise", "m", "Model"], na_position="last")
    rows = []
    for (scen, noise_, model), part in stats.groupby(["Scenario", "Noise", "Model"], sort=False):
        row = {"Scenario": scen, "Noise": noise_, "Model": model}
        for item in part.itertuples():
            row[item.Column] = pm(100 * item.mean, 100 * item.sem, 2)
        rows.append(row)
    display = (
        pd.DataFrame(rows).reindex(columns=["Scenario", "Noise", "Model", *columns]).fillna("—")
    )
    title = "Constrained/noisy study Table 2: final test accuracy (%) mean ± standard error"
    data = stats.drop(columns=["config", "n", "m"])
    return [Table("constrained_table2", title, data, display)]


def _supervised(ctx: Context) -> pd.DataFrame:
    """Test error of the runs without acquisition, per dataset, model and labeled size."""
    trials = ctx.full_trials
    if trials.empty:
        return pd.DataFrame()
    trials = trials.assign(error=1.0 - trials["f_acc"])
    stats = trials.groupby(["setting", "strategy", "n_labeled"], as_index=False)["error"].agg(
        ["mean", "std", "size"]
    )
    stats["sem"] = stats["std"].fillna(0.0) / np.sqrt(stats["size"])
    cells = ctx.full_cells.drop(columns=["batch"]).rename(columns={"dataset": "label"})
    stats = stats.merge(cells, on=["setting", "strategy"])
    stats["batch"] = None
    return _labels(stats)


def fig3(ctx: Context) -> list[Table]:
    supervised = _supervised(ctx)
    try:
        stats = _stats(ctx)
    except Missing:
        stats = pd.DataFrame()
    if len(stats):
        stats = stats[stats["Noise"] == "None"]
    if stats.empty and supervised.empty:
        raise Missing("no noise-free run")
    rows = []
    for item in supervised.itertuples() if len(supervised) else []:
        rows.append(
            {
                "Dataset": item.Dataset,
                "Technique": f"Supervised (n={item.n_labeled})",
                "Model": item.Model,
                "Strategy": "—",
                "Test error %": pm(100 * item.mean, 100 * item.sem, 2),
            }
        )
    if len(stats):
        stats = stats.assign(
            order=stats["strategy"].map(
                {s: k for k, s in enumerate(ordered(stats.drop_duplicates("strategy"), ORDER))}
            )
        )
        for item in stats.sort_values(["Dataset", "Scenario", "Model", "order"]).itertuples():
            rows.append(
                {
                    "Dataset": item.Dataset,
                    "Technique": f"AL, {item.Scenario}",
                    "Model": item.Model,
                    "Strategy": STRATEGIES.get(item.base_strategy, item.strategy),
                    "Test error %": pm(100 * (1 - item.mean), 100 * item.sem, 2),
                }
            )
    display = pd.DataFrame(rows)
    data = pd.concat(
        [
            supervised.drop(columns=["config"], errors="ignore"),
            stats.drop(columns=["config"], errors="ignore"),
        ],
        ignore_index=True,
    )
    title = "Constrained/noisy study Fig. 3: test error (%) mean ± standard error"
    return [Table("constrained_fig3", title, data, display)]


def curves(ctx: Context) -> list[Figure]:
    """Figs. 4-6: accuracy vs labeled-set size, one figure per dataset, scenario and noise."""
    stats = _stats(ctx)
    rounds = ctx.rounds.merge(
        stats[["setting", "strategy", "Dataset", "Scenario", "Noise", "Model", "base_strategy"]],
        on=["setting", "strategy"],
    )
    rounds["setting"] = rounds["Dataset"] + " " + rounds["Scenario"] + " noise " + rounds["Noise"]
    rounds["strategy"] = (
        rounds["Model"] + " " + rounds["base_strategy"].map(lambda s: STRATEGIES.get(s, s))
    )
    names = stats.set_index(["setting", "strategy"])
    trials = ctx.trials.join(
        names[["Dataset", "Scenario", "Noise", "Model", "base_strategy"]],
        on=["setting", "strategy"],
        how="inner",
    )
    trials["setting"] = trials["Dataset"] + " " + trials["Scenario"] + " noise " + trials["Noise"]
    trials["strategy"] = (
        trials["Model"] + " " + trials["base_strategy"].map(lambda s: STRATEGIES.get(s, s))
    )
    summary = (
        trials.groupby(["setting", "strategy"], as_index=False)["aubc"]
        .agg(aubc_mean="mean", aubc_std="std")
        .fillna(0.0)
    )

    def draw(out):
        paths = []
        for setting in sorted(rounds["setting"].unique()):
            paths += figures.curve_figure(rounds, summary, setting, out)
        return paths

    title = "Constrained/noisy study Figs. 4-6: test accuracy vs labeled samples"
    return [Figure("constrained_curves", title, draw)]


def ours(ctx: Context) -> pd.DataFrame:
    """Final accuracy (Table 2) and test error (Fig. 3), supervised runs included."""
    parts = []
    try:
        stats = _stats(ctx)
    except Missing:
        stats = pd.DataFrame()
    if len(stats):
        stats = stats.rename(columns={"size": "trials"})
        parts.append(long_rows(stats, "f_acc", "mean", "std"))
        stats = stats.assign(error=1.0 - stats["mean"])
        parts.append(long_rows(stats, "test_error", "error", "std"))
    supervised = _supervised(ctx)
    if len(supervised):
        supervised = supervised.rename(columns={"size": "trials"})
        parts.append(long_rows(supervised, "test_error", "mean", "std", strategy="supervised"))
    return concat_long(parts)


FAMILY = Family(
    name="constrained",
    title="Active learning under constrained and noisy data (Pantea)",
    builders=(
        ("Table 2", table2),
        ("Fig. 3", fig3),
        ("Figs. 4-6 (curves)", curves),
    ),
    ours=ours,
    versus_name="constrained_vs_paper",
    papers=("constrained",),
)
