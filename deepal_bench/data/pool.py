"""The pool: a labeled mask over training-set positions, and the initial labeled set."""

import torch

from deepal_bench.errors import ConfigError, unknown_choice

INITIAL_MODES = ("random", "balanced")


class Pool:
    """Which training points are labeled. Positions are dataset indices of `x_train`."""

    def __init__(self, size: int) -> None:
        self.labeled = torch.zeros(size, dtype=torch.bool)

    @property
    def n_labeled(self) -> int:
        return int(self.labeled.sum())

    def labeled_indices(self) -> torch.Tensor:
        return torch.nonzero(self.labeled, as_tuple=False).flatten()

    def unlabeled_indices(self) -> torch.Tensor:
        return torch.nonzero(~self.labeled, as_tuple=False).flatten()

    def label(self, indices: torch.Tensor) -> None:
        """Mark `indices` labeled; they must be distinct and unlabeled."""
        indices = indices.cpu().long()
        if len(torch.unique(indices)) != len(indices):
            raise ValueError("queried indices are not distinct")
        if self.labeled[indices].any():
            raise ValueError("queried indices include labeled points")
        self.labeled[indices] = True


def check_initial(labels: torch.Tensor, n: int, mode: str) -> None:
    """A `balanced` initial set of `n` points needs one point of each class in `labels`
    (the pool's labels); a ConfigError otherwise. Cheap enough to call before the run."""
    classes = len(torch.unique(labels))
    if mode == "balanced" and n < classes:
        raise ConfigError(
            f"budget.initial={n} with budget.initial_mode=balanced: a balanced initial set "
            f"needs at least one point of each of the {classes} classes, so budget.initial "
            f"must be at least {classes} (or use initial_mode=random)."
        )


def initial_indices(
    labels: torch.Tensor, available: torch.Tensor, n: int, mode: str, gen: torch.Generator
) -> torch.Tensor:
    """Draw the initial labeled set of size `n` from the `available` positions.

    `random`: uniform without replacement. `balanced`: as equal a count per class as the
    classes allow (remainders go to randomly chosen classes), uniform within each class; it
    needs `n` of at least the number of classes (a ConfigError otherwise).
    """
    if mode not in INITIAL_MODES:
        raise unknown_choice("budget.initial_mode", mode, INITIAL_MODES)
    if n > len(available):
        raise ConfigError(f"budget.initial={n} is larger than the pool ({len(available)} points).")
    available = available.cpu()
    if mode == "random":
        return available[torch.randperm(len(available), generator=gen)[:n]]
    y = labels.cpu()[available]
    classes = torch.unique(y)
    check_initial(y, n, mode)
    per_class = [available[y == c] for c in classes]
    quota = torch.zeros(len(classes), dtype=torch.long)
    remaining = n
    while remaining > 0:
        open_classes = [i for i, members in enumerate(per_class) if quota[i] < len(members)]
        order = torch.randperm(len(open_classes), generator=gen)
        for k in order[:remaining].tolist():
            quota[open_classes[k]] += 1
        remaining = n - int(quota.sum())
    chosen = [
        members[torch.randperm(len(members), generator=gen)[: int(q)]]
        for members, q in zip(per_class, quota, strict=True)
    ]
    return torch.cat(chosen)
