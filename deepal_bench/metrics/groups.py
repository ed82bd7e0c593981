"""Group accuracies for datasets with group labels (DeepAL+ survey §3.4, Table 8, Fig. 4).

Waterbirds has four groups (object x background); DeepAL+ reports the accuracy on the
*mismatch* groups {(waterbird, land), (landbird, water)} and the *worst-group* accuracy, the
lowest accuracy among the groups (Sagawa et al.; DeepAL+ refs [42, 54]).
"""

from collections.abc import Sequence

import numpy as np

WORST_GROUP = "worst_group_accuracy"
MISMATCH = "mismatch_accuracy"


def group_accuracies(pred: Sequence[int], y: Sequence[int], groups: Sequence[int], n_groups: int):
    """Accuracy of each group 0..n_groups-1 (NaN for a group without test points)."""
    pred, y, groups = np.asarray(pred), np.asarray(y), np.asarray(groups)
    if not (pred.shape == y.shape == groups.shape):
        raise ValueError("pred, y and groups must have the same shape")
    correct = np.bincount(groups, weights=(pred == y).astype(float), minlength=n_groups)
    size = np.bincount(groups, minlength=n_groups).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return correct[:n_groups] / size[:n_groups]


def worst_group_accuracy(accuracies: Sequence[float]) -> float:
    """The lowest accuracy among the groups that have test points."""
    values = np.asarray(accuracies, dtype=float)
    if np.all(np.isnan(values)):
        raise ValueError("no group has test points")
    return float(np.nanmin(values))


def mismatch_accuracy(
    pred: Sequence[int], y: Sequence[int], groups: Sequence[int], mismatch: Sequence[int]
) -> float:
    """Accuracy over all test points whose group is one of the `mismatch` groups (pooled)."""
    pred, y, groups = np.asarray(pred), np.asarray(y), np.asarray(groups)
    inside = np.isin(groups, np.asarray(list(mismatch), dtype=groups.dtype))
    if not inside.any():
        raise ValueError("no test point belongs to the mismatch groups")
    return float((pred[inside] == y[inside]).mean())


def group_metrics(
    pred: Sequence[int],
    y: Sequence[int],
    groups: Sequence[int],
    group_names: Sequence[str],
    mismatch_groups: Sequence[str] = (),
) -> dict[str, float]:
    """Extra rounds.csv columns: worst-group and (if declared) mismatch accuracy, then one
    `accuracy_<group name>` column per group, in `group_names` order."""
    names = list(group_names)
    unknown = [g for g in mismatch_groups if g not in names]
    if unknown:
        raise ValueError(f"mismatch groups {unknown} are not among the groups {names}")
    per_group = group_accuracies(pred, y, groups, len(names))
    columns = {WORST_GROUP: worst_group_accuracy(per_group)}
    if mismatch_groups:
        ids = [names.index(g) for g in mismatch_groups]
        columns[MISMATCH] = mismatch_accuracy(pred, y, groups, ids)
    columns.update({f"accuracy_{name}": float(a) for name, a in zip(names, per_group, strict=True)})
    return columns
