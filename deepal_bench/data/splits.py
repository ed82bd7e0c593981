"""Seeded stratified splits of labeled arrays."""

import torch

from deepal_bench.errors import ConfigError


def stratified_split(
    labels: torch.Tensor,
    test_fraction: float | int,
    gen: torch.Generator,
    key: str = "dataset.test_size",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Split positions into (keep, held_out), stratified by label.

    `test_fraction` is a fraction of the data (float < 1) or an absolute count (int).
    Per class, round(share * class size) points are held out; rounding drift is corrected
    on the largest classes so the held-out size is exact. A size that leaves nothing on
    either side is a ConfigError naming `key`.
    """
    n = len(labels)
    n_out = round(test_fraction * n) if isinstance(test_fraction, float) else int(test_fraction)
    if not 0 < n_out < n:
        raise ConfigError(
            f"Invalid {key}={test_fraction}: it holds out {n_out} of the {n} points; it must "
            f"hold out at least 1 and at most {n - 1} (a fraction in (0, 1) or a count)."
        )
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
