"""Dueling (pairwise penalty) matrix over settings and rounds (FALCUN §4 Fig. 4; BADGE §5).

For every setting (dataset, model, budget, ...) and every acquisition round, each pair of
strategies is compared with a two-sided paired t-test over trials at significance `alpha`;
entry (i, j) is the percentage of those comparisons in which i is significantly better
than j. The last column of FALCUN's matrix (a strategy's wins) and its bottom row (losses)
are `win_rate` and `loss_rate` here.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from deepal_bench.metrics.significance import paired_ttest


@dataclass
class DuelingResult:
    """`matrix` (%, row beats column), `wins`/`comparisons` counts, and per-strategy rates."""

    matrix: pd.DataFrame
    wins: pd.DataFrame
    comparisons: pd.DataFrame
    win_rate: pd.Series
    loss_rate: pd.Series


def dueling_matrix(
    records: pd.DataFrame,
    alpha: float = 0.05,
    setting: str = "setting",
    value: str = "accuracy",
    include_initial: bool = False,
) -> DuelingResult:
    """Pairwise win percentages from per-round records (FALCUN Fig. 4).

    `records`: one row per (setting, strategy, trial, round) with columns `setting`,
    `strategy`, `seed` (the trial's seed: trials are paired by it, as strategies of the same
    trial start from the same initial set), `round` and `value`. Round 0 (the shared
    initial set, before any acquisition) is left out unless `include_initial`.

    Unequal trial counts: a pair is tested on the seeds both strategies have (with a non-NaN
    value); a (setting, round) where a pair shares fewer than 2 trials is not a comparison
    for that pair (neither numerator nor denominator). A test counts as a win for i when
    p < alpha and mean(i - j) > 0; identical results are never significant.

    `win_rate[i]` = all wins of i / all comparisons of i, `loss_rate[j]` = all losses of j /
    all comparisons of j, pooled over opponents (equal to the mean of the row, resp. column,
    when every pair has the same number of comparisons). Rates are NaN for a strategy that
    was never compared.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1) (got {alpha})")
    missing = [c for c in (setting, "strategy", "seed", "round", value) if c not in records]
    if missing:
        raise ValueError(f"records lack the columns {', '.join(missing)}")
    data = records if include_initial else records[records["round"] > 0]
    strategies = sorted(records["strategy"].unique())
    wins, comparisons = _count_duels(data, strategies, setting, value, alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        matrix = 100.0 * wins / comparisons
        total = comparisons.sum(axis=1)
        win_rate = 100.0 * wins.sum(axis=1) / total
        loss_rate = 100.0 * wins.sum(axis=0) / total

    def frame(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values, index=pd.Index(strategies), columns=pd.Index(strategies))

    return DuelingResult(
        matrix=frame(matrix),
        wins=frame(wins),
        comparisons=frame(comparisons),
        win_rate=pd.Series(win_rate, index=strategies, name="win_rate"),
        loss_rate=pd.Series(loss_rate, index=strategies, name="loss_rate"),
    )


def _count_duels(
    data: pd.DataFrame, strategies: list[str], setting: str, value: str, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """(wins[i, j], comparisons[i, j]) over every (setting, round) paired t-test."""
    index = {s: k for k, s in enumerate(strategies)}
    wins = np.zeros((len(strategies), len(strategies)), dtype=int)
    comparisons = np.zeros_like(wins)
    for _, part in data.groupby([setting, "round"], sort=True):
        table = part.pivot_table(index="seed", columns="strategy", values=value, aggfunc="mean")
        names = list(table.columns)
        for a_pos, a in enumerate(names):
            for b in names[a_pos + 1 :]:
                test = paired_ttest(table[a].to_numpy(), table[b].to_numpy())
                if test.n < 2:
                    continue
                i, j = index[a], index[b]
                comparisons[i, j] += 1
                comparisons[j, i] += 1
                if test.pvalue < alpha:
                    winner, loser = (i, j) if test.statistic > 0 else (j, i)
                    wins[winner, loser] += 1
    return wins, comparisons
