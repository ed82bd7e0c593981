"""Seeded stratified splits of labeled arrays."""

import torch


def stratified_split(
    labels: torch.Tensor, test_fraction: float | int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Split positions into (keep, held_out), stratified by label.

    `test_fraction` is a fraction of the data (float < 1) or an absolute count (int).
    Per class, round(share * class size) points are held out; rounding drift is corrected
    on the largest classes so the held-out size is exact.
    """
    n = len(labels)
    n_out = round(test_fraction * n) if isinstance(test_fraction, float) else int(test_fraction)
    if not 0 < n_out < n:
        raise ValueError(f"cannot hold out {n_out} of {n} points")
    classes, counts = torch.unique(labels, return_counts=True)
    share = counts.double() * n_out / n
    per_class = torch.floor(share).long()
    deficit = n_out - int(per_class.sum())
    order = torch.argsort(share - per_class, descending=True, stable=True)
    per_class[order[:deficit]] += 1
    held = []
    for c, k in zip(classes.tolist(), per_class.tolist(), strict=True):
        members = torch.nonzero(labels == c, as_tuple=False).flatten()
        held.append(members[torch.randperm(len(members), generator=gen)[:k]])
    held_out = torch.sort(torch.cat(held)).values
    mask = torch.ones(n, dtype=torch.bool)
    mask[held_out] = False
    return torch.nonzero(mask, as_tuple=False).flatten(), held_out
