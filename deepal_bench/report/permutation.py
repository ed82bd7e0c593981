"""RALIF Table 7: label-permutation p-values of every strategy against one reference.

Needs runs recorded with `store_predictions=true`. Per setting, each strategy is compared
with the reference strategy trial by trial (paired by trial seed) on the first and last
selection cycle accuracies and on the AUCA ratio (against the baseline's predictions);
as in RALIF, the largest p-value over the trials is reported (the conservative choice).
"""

import numpy as np
import pandas as pd

from deepal_bench.metrics import accuracy_permutation_test, auca_ratio_permutation_test
from deepal_bench.results.predictions import read_predictions
from deepal_bench.results.records import Cell


def _trial_predictions(cell: Cell) -> tuple[np.ndarray, dict[int, np.ndarray]] | None:
    """(test labels, {trial seed: (cycles, n_test) predictions}) of a cell, or None."""
    labels, by_seed = None, {}
    for run in cell.runs:
        try:
            stored = read_predictions(run.path)
        except (OSError, ValueError):  # damaged or pickled (object) arrays are never loaded
            return None
        if stored is None:
            return None
        labels, predictions = stored
        for trial, part in run.rounds.groupby("trial"):
            rounds = sorted(part["round"])
            cycles = [r for r in rounds if r > 0] or rounds
            if all((trial, r) in predictions for r in cycles):
                seed = int(part["seed"].iloc[0])
                by_seed[seed] = np.stack([predictions[(trial, r)] for r in cycles])
    return labels, by_seed


def _p_values(ref, preds, random, labels, n_permutations: int) -> dict | None:
    """Largest p over the seeds all three share: first and last cycle, AUCA ratio."""
    seeds = sorted(set(preds) & set(ref) & set(random))
    if not seeds:
        return None
    first, last, auca = [], [], []
    for seed in seeds:
        a, b, r = ref[seed], preds[seed], random[seed]
        first.append(accuracy_permutation_test(a[0], b[0], labels, n_permutations, seed).pvalue)
        last.append(accuracy_permutation_test(a[-1], b[-1], labels, n_permutations, seed).pvalue)
        auca.append(auca_ratio_permutation_test(a, b, r, labels, n_permutations, seed).pvalue)
    return {
        "trials": len(seeds),
        "first_p": max(first),
        "last_p": max(last),
        "auca_ratio_p": max(auca),
    }


def _setting_rows(
    setting: str, strategies: dict[str, Cell], reference: str, baseline: str, n_permutations: int
) -> list[dict]:
    if reference not in strategies or baseline not in strategies:
        return []
    loaded = {name: _trial_predictions(cell) for name, cell in strategies.items()}
    if any(value is None for value in loaded.values()):
        return []
    labels, ref = loaded[reference]
    random = loaded[baseline][1]
    rows = []
    for name, (_, preds) in sorted(loaded.items()):
        found = None if name == reference else _p_values(ref, preds, random, labels, n_permutations)
        if found:
            rows.append({"setting": setting, "reference": reference, "strategy": name, **found})
    return rows


def permutation_table(
    cells: list[tuple[str, str, Cell]], reference: str, baseline: str, n_permutations: int = 10_000
) -> pd.DataFrame:
    """Largest p-value over paired trials of each strategy vs `reference`, per setting;
    `cells` are (setting label, strategy label, cell)."""
    by_setting: dict[str, dict[str, Cell]] = {}
    for setting, strategy, cell in cells:
        by_setting.setdefault(setting, {})[strategy] = cell
    rows = [
        row
        for setting, strategies in sorted(by_setting.items())
        for row in _setting_rows(setting, strategies, reference, baseline, n_permutations)
    ]
    return pd.DataFrame(rows)
