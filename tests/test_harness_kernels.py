"""Kernels of the first strategy set on hand-made cases."""

import math

import pytest
import torch

from deepal_bench import kernels


def test_entropy_orders_rows_by_uncertainty():
    probs = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    scores = kernels.entropy(probs)
    assert torch.allclose(scores, torch.tensor([0.0, math.log(2), math.log(3)]), atol=1e-6)
    assert scores.argsort().tolist() == [0, 1, 2]


def test_margin_and_least_confidence_by_hand():
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25]])
    assert torch.allclose(kernels.margin(probs), torch.tensor([-0.5, -0.05]), atol=1e-6)
    assert torch.allclose(kernels.least_confidence(probs), torch.tensor([0.3, 0.6]), atol=1e-6)


def test_bald_is_zero_when_passes_agree_and_positive_when_they_disagree():
    agree = torch.tensor([[[0.5, 0.5]], [[0.5, 0.5]]])
    disagree = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]])
    assert kernels.bald(agree).item() == pytest.approx(0.0, abs=1e-6)
    # H(mean) = log 2, mean H = 0
    assert kernels.bald(disagree).item() == pytest.approx(math.log(2), abs=1e-6)


def test_var_ratio_is_one_minus_mode_frequency_not_least_confidence():
    # 4 passes, 1 point: predicted labels 0, 0, 0, 1 -> mode frequency 3/4
    mc = torch.tensor([[[0.6, 0.4]], [[0.9, 0.1]], [[0.55, 0.45]], [[0.2, 0.8]]])
    assert kernels.var_ratio(mc).item() == pytest.approx(0.25)
    assert kernels.var_ratio(mc).item() != pytest.approx(
        kernels.least_confidence(mc.mean(0)).item()
    )


def test_kcenter_picks_the_farthest_point_then_the_next_farthest():
    labeled = torch.tensor([[0.0, 0.0]])
    pool = torch.tensor([[1.0, 0.0], [10.0, 0.0], [0.0, 4.0], [9.0, 0.5]])
    # first: (10,0) at distance 10; then min distances: (1,0)->1, (0,4)->4, (9,.5)->~1.1
    assert kernels.kcenter_greedy(pool, labeled, 2).tolist() == [1, 2]


def test_kcenter_near_duplicate_of_labeled_point_never_wins():
    labeled = torch.tensor([[1e4, 1e4]])
    pool = torch.tensor([[1e4, 1e4 + 1e-3], [0.0, 0.0]])
    assert kernels.kcenter_greedy(pool, labeled, 1).tolist() == [1]


def test_kmeanspp_returns_distinct_positions_and_is_seeded():
    emb = torch.cat([torch.zeros(5, 2), torch.ones(5, 2) * 100])
    a = kernels.kmeanspp(emb, 6, torch.Generator().manual_seed(3))
    b = kernels.kmeanspp(emb, 6, torch.Generator().manual_seed(3))
    assert a.tolist() == b.tolist()
    assert len(set(a.tolist())) == 6
    # D^2 sampling: after the first center, the other cluster is hit with certainty
    first_cluster = int(a[0]) >= 5
    assert (int(a[1]) >= 5) != first_cluster


def test_badge_factorised_distances_match_explicit_gradient_embeddings():
    gen = torch.Generator().manual_seed(0)
    probs = torch.softmax(torch.randn(30, 4, generator=gen), 1)
    emb = torch.randn(30, 6, generator=gen)
    chosen = kernels.badge(probs, emb, 5, torch.Generator().manual_seed(1))
    # first center: largest explicit gradient-embedding norm
    onehot = torch.nn.functional.one_hot(probs.argmax(1), 4).float()
    grads = ((probs - onehot)[:, :, None] * emb[:, None, :]).flatten(1)
    assert int(chosen[0]) == int(grads.norm(dim=1).argmax())
    assert len(set(chosen.tolist())) == 5


def test_badge_degenerate_all_zero_distances_still_returns_distinct_points():
    probs = torch.full((6, 3), 1 / 3)
    emb = torch.ones(6, 2)
    chosen = kernels.badge(probs, emb, 4, torch.Generator().manual_seed(0))
    assert len(set(chosen.tolist())) == 4
