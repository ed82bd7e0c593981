"""RALIF adapter: points with no class above tau never take the candidate pool's places."""

import torch

from deepal_bench.strategies import build_strategy, ralif


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


def test_diversity_starts_at_the_best_candidate_and_avoids_the_labeled_points(monkeypatch):
    # Hand-made scores make position 1 the best candidate. With the labeled point beside
    # position 3, D^2 from labeled and chosen points leaves position 0 as the only far one
    # (D^2 100 against 0.01 and 0.0025); plain k-means++ would start anywhere and give
    # position 3 half the mass.
    scores = torch.tensor([1.0, 0.0, 1.0, 1.0])
    monkeypatch.setattr(ralif.kernels, "ralif_scores", lambda *args, **kwargs: scores)
    emb = torch.tensor([[0.0], [10.0], [10.1], [20.0]])
    labeled_emb = torch.tensor([[20.05]])
    probs = torch.full((4, 2), 0.5)
    strategy = build_strategy({"name": "ralif", "reference_size": None, "candidate_fraction": 1.0})
    for seed in range(8):
        ctx = _Context(probs, emb, probs[:1], labeled_emb)
        ctx.generator.manual_seed(seed)
        assert strategy.select(ctx, 2).tolist() == [1, 0]
