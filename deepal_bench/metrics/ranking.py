"""Win-tie-loss ranking of strategies across datasets (DeepAL+ survey App. E, Table 9)."""

import numpy as np
import pandas as pd

# Differences within this distance of the margin count as exactly at the margin (a tie):
# 0.9733 - 0.9683 is 0.005000000000000004 in floating point, not more than 0.005.
_TOLERANCE = 1e-9


def win_tie_loss(scores: pd.DataFrame, margin: float = 0.005) -> pd.DataFrame:
    """Pairwise win/tie/loss counts and the ranking by `2 * win + tie` (DeepAL+ Table 9).

    `scores`: rows = strategies, columns = datasets (settings), values = a score where
    higher is better (e.g. mean AUBC); NaN = missing. For every ordered pair (a, b), a != b,
    and every dataset: a wins if its score exceeds b's by more than `margin` ("a win is
    counted for method A if it outperforms method B by 0.5%"), loses if it trails by more,
    ties otherwise (a difference of exactly `margin` is a tie). A missing entry loses to a
    present one; two missing entries tie. Each strategy thus has (S - 1) * D comparisons.

    Returns a frame indexed by strategy with columns win, tie, loss, score (2*win + tie)
    and rank (1 = best; equal scores share the best rank), sorted by rank then name.
    """
    if margin < 0:
        raise ValueError(f"margin must be >= 0 (got {margin})")
    if not scores.index.is_unique:
        raise ValueError("scores has duplicate strategies in its index")
    values = scores.to_numpy(dtype=float)  # S x D
    present = ~np.isnan(values)
    diff = values[:, None, :] - values[None, :, :]  # S x S x D: row minus column
    both = present[:, None, :] & present[None, :, :]
    wins = (both & (diff > margin + _TOLERANCE)) | (present[:, None, :] & ~present[None, :, :])
    losses = (both & (diff < -margin - _TOLERANCE)) | (~present[:, None, :] & present[None, :, :])
    off_diagonal = ~np.eye(len(values), dtype=bool)[:, :, None]
    win = (wins & off_diagonal).sum(axis=(1, 2))
    loss = (losses & off_diagonal).sum(axis=(1, 2))
    tie = (len(values) - 1) * values.shape[1] - win - loss
    table = pd.DataFrame({"win": win, "tie": tie, "loss": loss}, index=scores.index)
    table["score"] = 2 * table["win"] + table["tie"]
    table["rank"] = table["score"].rank(method="min", ascending=False).astype(int)
    name = scores.index.name or "strategy"
    table.index.name = name
    return table.reset_index().sort_values(["rank", name]).set_index(name)
