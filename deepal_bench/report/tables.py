"""Report tables recomputed from pooled trial and round records.

`trials` is `results.collect.trial_table(cells)` (one row per setting, strategy, trial),
`rounds` is `results.collect.round_table(cells)` (one row per trial and round).
"""

import numpy as np
import pandas as pd

from deepal_bench.metrics import (
    aubc,
    auca,
    auca_ratio,
    dueling_matrix,
    paired_ttest,
    time_ratio,
    wilcoxon_signed_rank,
    win_tie_loss,
)
from deepal_bench.metrics.dueling import DuelingResult
from deepal_bench.metrics.groups import MISMATCH, WORST_GROUP
from deepal_bench.metrics.records import summary_metric_names

KEYS = ["setting", "strategy"]


def _mean_std(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Mean and sample std (0 for a single trial) of `columns` per setting and strategy."""
    grouped = frame.groupby(KEYS, sort=True)[columns]
    mean = grouped.mean().add_suffix("_mean")
    std = grouped.std(ddof=1).fillna(0.0).add_suffix("_std")
    table = pd.concat([mean, std], axis=1)
    return table[[f"{c}_{s}" for c in columns for s in ("mean", "std")]]


def summary_table(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per (setting, strategy): trials, then mean and std over trials of every
    summary metric (`metrics.records`: AUBC, F-acc)."""
    metrics = summary_metric_names()
    stats = [f"{m}_{s}" for m in metrics for s in ("mean", "std")]
    columns = ["setting", "strategy", "trials", *stats]
    if trials.empty:
        return pd.DataFrame(columns=columns)
    table = _mean_std(trials, metrics)
    table.insert(0, "trials", trials.groupby(KEYS, sort=True).size())
    return table.reset_index()[columns]


def auca_ratio_table(rounds: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Per-trial AUCA ratio (RALIF §5) over the selection cycles (rounds >= 1).

    Each trial is divided by the baseline's trial with the same seed (so Random's own
    ratio is exactly 1, as in RALIF Table 2); a trial whose seed the baseline lacks is
    divided by the baseline's mean curve. Settings without the baseline are left out; a
    baseline area of 0 gives NaN (`metrics.auca_ratio` refuses it).
    """
    rows = []
    for setting, part in rounds.groupby("setting", sort=True):
        cycles = part[part["round"] > 0] if part["round"].max() > 0 else part
        curves = cycles.pivot_table(
            index=["strategy", "seed"], columns="round", values="accuracy", aggfunc="mean"
        )
        if baseline not in curves.index.get_level_values("strategy"):
            continue
        reference = curves.loc[baseline]
        for (strategy, seed), curve in curves.iterrows():
            random_curve = reference.loc[seed] if seed in reference.index else reference.mean()
            a, r = curve.to_numpy(), random_curve.to_numpy()
            ratio = auca_ratio(a, r) if auca(r) > 0 else np.nan
            rows.append(
                {"setting": setting, "strategy": strategy, "seed": seed, "auca_ratio": ratio}
            )
    return pd.DataFrame(rows, columns=["setting", "strategy", "seed", "auca_ratio"])


COST_COLUMNS = ("query_seconds", "total_seconds")


def cost_per_trial(trials: pd.DataFrame, rounds: pd.DataFrame) -> pd.DataFrame:
    """Per (setting, strategy, trial): its mean query seconds per acquisition round (round
    0, the initial draw, left out) and its total train + query + eval seconds."""
    acquisition = rounds[rounds["round"] > 0]
    query = acquisition.groupby([*KEYS, "seed"])["query_seconds"].mean()
    per_trial = trials.set_index([*KEYS, "seed"])[["total_seconds"]]
    return per_trial.join(query).reset_index()[[*KEYS, "seed", *COST_COLUMNS]]


def overall_table(trials: pd.DataFrame, rounds: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """AUBC, F-acc, time ratio (DeepAL+ Tables 4-7), query seconds per round and total
    seconds, first/last-cycle accuracy and AUCA ratio (RALIF Table 2): mean and std over
    trials per (setting, strategy)."""
    table = summary_table(trials).set_index(KEYS)
    table = table.join(trials.groupby(KEYS)[["dataset", "model", "batch"]].first())
    table = table.join(_mean_std(trials, ["first_acc", "last_acc"]))
    ratios = auca_ratio_table(rounds, baseline)
    if not ratios.empty:
        table = table.join(_mean_std(ratios, ["auca_ratio"]))
    else:
        table["auca_ratio_mean"] = table["auca_ratio_std"] = np.nan
    table = table.join(_mean_std(cost_per_trial(trials, rounds), list(COST_COLUMNS)))
    table["time_ratio"] = np.nan
    for (setting, strategy), part in trials.groupby(KEYS):
        reference = trials[(trials["setting"] == setting) & (trials["strategy"] == baseline)]
        if len(reference):
            table.loc[(setting, strategy), "time_ratio"] = time_ratio(
                part["al_seconds"], reference["al_seconds"]
            )
    return table.reset_index()


def full_table(trials: pd.DataFrame) -> pd.DataFrame:
    """DeepAL+'s "Full" reference: F-acc of runs without acquisition, per dataset and model."""
    columns = ["dataset", "model", "n_labeled", "trials", "f_acc_mean", "f_acc_std"]
    if trials.empty:
        return pd.DataFrame(columns=columns)
    grouped = trials.groupby(["dataset", "model"], sort=True)
    table = grouped.agg(
        n_labeled=("n_labeled", "max"),
        trials=("f_acc", "size"),
        f_acc_mean=("f_acc", "mean"),
        f_acc_std=("f_acc", "std"),
    )
    return table.fillna({"f_acc_std": 0.0}).reset_index()[columns]


def win_tie_loss_table(overall: pd.DataFrame, margin: float = 0.005) -> pd.DataFrame:
    """DeepAL+ Table 9 over the settings present: win-tie-loss of mean AUBC, ranked."""
    scores = overall.pivot(index="strategy", columns="setting", values="aubc_mean")
    return win_tie_loss(scores, margin).reset_index()


def dueling(rounds: pd.DataFrame, alpha: float = 0.05) -> DuelingResult:
    """FALCUN Fig. 4 over every setting and acquisition round of the records."""
    return dueling_matrix(rounds, alpha=alpha)


def dueling_table(result: DuelingResult) -> pd.DataFrame:
    """The matrix (% of comparisons the row wins against the column) with FALCUN's margins:
    a last column of overall wins and a last row of overall losses."""
    table = result.matrix.copy()
    table["win_rate"] = result.win_rate
    table.loc["loss_rate"] = list(result.loss_rate) + [np.nan]
    table.index.name = "strategy"
    return table.reset_index()


def significance_table(trials: pd.DataFrame, baseline: str, metric: str = "aubc") -> pd.DataFrame:
    """Every strategy against the baseline per setting, paired by trial seed: mean
    difference, paired t-test (DeepAL+ §3.2) and Wilcoxon signed-rank (DMLE §5.2) p-values."""
    rows = []
    for setting, part in trials.groupby("setting", sort=True):
        values = part.pivot_table(index="seed", columns="strategy", values=metric)
        if baseline not in values:
            continue
        for strategy in values.columns.drop(baseline):
            pair = values[[strategy, baseline]].dropna()
            t = paired_ttest(pair[strategy], pair[baseline])
            w = wilcoxon_signed_rank(pair[strategy], pair[baseline])
            rows.append(
                {
                    "setting": setting,
                    "strategy": strategy,
                    "baseline": baseline,
                    "pairs": t.n,
                    f"{metric}_difference": float((pair[strategy] - pair[baseline]).mean()),
                    "ttest_p": t.pvalue,
                    "wilcoxon_p": w.pvalue,
                }
            )
    return pd.DataFrame(rows)


def group_table(rounds: pd.DataFrame) -> pd.DataFrame:
    """DeepAL+ Table 8: AUBC and F-acc of the mismatch and worst-group accuracy curves."""
    columns = [c for c in (MISMATCH, WORST_GROUP) if c in rounds]
    if not columns:
        return pd.DataFrame()
    rows = []
    for (setting, strategy, seed), part in rounds.groupby([*KEYS, "seed"], sort=True):
        part = part.sort_values("round")
        row = {"setting": setting, "strategy": strategy, "seed": seed}
        for column in columns:
            row[f"{column}_aubc"] = aubc(part["n_labeled"], part[column])
            row[f"{column}_f_acc"] = float(part[column].iloc[-1])
        rows.append(row)
    per_trial = pd.DataFrame(rows)
    metrics = [f"{c}_{m}" for c in columns for m in ("aubc", "f_acc")]
    return _mean_std(per_trial, metrics).reset_index()
