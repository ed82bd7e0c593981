"""RALIF adapter: points with no class above tau never take the candidate pool's places."""

import torch

from deepal_bench.strategies import build_strategy


class _Context:
    """The QueryContext surface RALIF reads, on hand-made tensors."""

    def __init__(self, probs, emb, labeled_probs, labeled_emb) -> None:
        self._probs, self._emb = probs, emb
        self._labeled_probs, self._labeled_emb = labeled_probs, labeled_emb
        self.generator = torch.Generator().manual_seed(0)

    def probs(self):
        return self._probs

    def embeddings(self):
        return self._emb

    def labeled_probs(self):
        return self._labeled_probs

    def labeled_embeddings(self):
        return self._labeled_emb


def test_flat_points_are_ranked_after_every_scored_point():
    g = torch.Generator().manual_seed(0)
    k, n_pool = 10, 20
    peaked = torch.full((n_pool, k), 0.2 / (k - 1))
    peaked[torch.arange(n_pool), torch.arange(n_pool) % k] = 0.8
    flat = torch.arange(0, n_pool, 5)  # positions 0, 5, 10, 15: no class above tau = 0.4
    peaked[flat] = 1.0 / k
    emb = torch.randn(n_pool, 3, generator=g)
    labeled_emb = torch.randn(30, 3, generator=g)
    labeled_probs = torch.softmax(torch.randn(30, k, generator=g), 1)
    ctx = _Context(peaked, emb, labeled_probs, labeled_emb)
    strategy = build_strategy({"name": "ralif", "reference_size": None})
    # the candidate pool is max(n, 10% of 20) = 4 points; before the fix the 4 flat points
    # (score 0, the smallest) filled it and were queried.
    chosen = strategy.select(ctx, 4).tolist()
    assert len(set(chosen)) == 4
    assert not set(chosen) & set(flat.tolist())
