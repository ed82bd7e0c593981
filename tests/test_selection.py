"""Stochastic selections: log-weights, Gumbel top-k distribution, sequential log-probabilities."""

import itertools
import math

import pytest
import torch
from omegaconf import OmegaConf
from scipy import stats

from deepal_bench.cli.run import CONF_DIR
from deepal_bench.errors import ConfigError
from deepal_bench.kernels.gumbel import (
    descending_ranks,
    gumbel_topk,
    sequential_log_probs,
    soft_ranks,
    suffix_log_normalisers,
)
from deepal_bench.models.mlp import MLP
from deepal_bench.selection import Power, Softmax, SoftRank, TopK, build_selection
from deepal_bench.strategies.diversity import KCenter
from deepal_bench.strategies.uncertainty import Entropy

SCORES = torch.tensor([0.1, 0.5, 0.2, 0.9])


def test_log_weights_per_kind_by_hand():
    assert torch.allclose(Softmax(beta=2.0).log_weights(SCORES), 2.0 * SCORES)
    assert torch.allclose(Power(beta=2.0).log_weights(SCORES), 2.0 * torch.log(SCORES))
    # descending ranks of [0.1, 0.5, 0.2, 0.9] are [4, 2, 3, 1]
    expected = -2.0 * torch.log(torch.tensor([4.0, 2.0, 3.0, 1.0]))
    assert torch.allclose(SoftRank(beta=2.0).log_weights(SCORES), expected)


def test_descending_ranks_break_ties_by_position():
    assert descending_ranks(torch.tensor([0.3, 0.7, 0.3, 0.1])).tolist() == [2, 1, 3, 4]


def test_sequential_log_probs_by_hand():
    w = torch.tensor([0.0, math.log(2.0), math.log(3.0), math.log(4.0)], dtype=torch.float64)
    # P = [1, 2, 3, 4] / 10; draw 3 then 1: 4/10, then 2/6; then 0: 1/4
    lp = sequential_log_probs(w, torch.tensor([3, 1, 0]))
    assert torch.allclose(lp, torch.log(torch.tensor([0.4, 2 / 6, 1 / 4], dtype=torch.float64)))


def _pair_probs(p: torch.Tensor) -> dict[tuple[int, int], float]:
    return {
        (i, j): float(p[i] * p[j] / (1 - p[i])) for i, j in itertools.permutations(range(len(p)), 2)
    }


@pytest.mark.parametrize(
    "selection", [Softmax(beta=1.0), Power(beta=1.0), SoftRank(beta=1.0)], ids=lambda s: s.name
)
def test_gumbel_topk_matches_the_selection_distribution(selection):
    """Ordered pairs (k=2) drawn 6,000 times follow P(i)P(j)/(1-P(i)) (chi-square)."""
    scores = torch.tensor([1.0, 2.0, 0.5, 3.0])
    p = torch.softmax(selection.log_weights(scores.double()), 0)
    if selection.name == "softrank":  # r = [3, 2, 4, 1] -> P ∝ 1/r
        assert torch.allclose(p, torch.tensor([1 / 3, 1 / 2, 1 / 4, 1.0]).double() / (25 / 12))
    exact = _pair_probs(p)
    gen = torch.Generator().manual_seed(0)
    counts = dict.fromkeys(exact, 0)
    draws = 6000
    for _ in range(draws):
        chosen = selection.select(scores, 2, gen)
        pair = tuple(chosen.positions.tolist())
        counts[pair] += 1
        # the reported log-probability is that of the ordered draw
        assert math.isclose(float(chosen.log_probs.sum()), math.log(exact[pair]), rel_tol=1e-5)
    keys = sorted(exact)
    observed = [counts[k] for k in keys]
    expected = [exact[k] * draws for k in keys]
    assert stats.chisquare(observed, expected).pvalue > 1e-3


def test_gumbel_topk_is_seeded_and_without_replacement():
    w = torch.zeros(50)
    a = gumbel_topk(w, 20, torch.Generator().manual_seed(3))
    b = gumbel_topk(w, 20, torch.Generator().manual_seed(3))
    assert a.tolist() == b.tolist()
    assert len(set(a.tolist())) == 20
    assert len(gumbel_topk(w, 80, torch.Generator().manual_seed(3))) == 50


def test_large_beta_softmax_approaches_topk():
    scores = torch.tensor([0.1, 0.9, 0.4, 0.8, 0.2])
    chosen = Softmax(beta=1e4).select(scores, 2, torch.Generator().manual_seed(0))
    assert chosen.positions.tolist() == [1, 3]
    assert TopK().select(scores, 2, torch.Generator()).positions.tolist() == [1, 3]


def test_power_rejects_negative_scores_and_beta_must_be_positive():
    with pytest.raises(ConfigError, match="non-negative"):
        Power().select(torch.tensor([-0.2, -0.1]), 1, torch.Generator())
    with pytest.raises(ConfigError, match="beta"):
        build_selection({"name": "softmax", "beta": 0.0})


def test_selection_yaml_defaults_beta_one():
    for kind in ("softmax", "power", "softrank"):
        sel = build_selection(OmegaConf.load(CONF_DIR / "selection" / f"{kind}.yaml"))
        assert sel.name == kind and sel.beta == 1.0


def test_batch_strategies_reject_stochastic_selection():
    model = MLP((4,), 3, hidden=8, dropout=0.5)
    with pytest.raises(ConfigError, match="selection=topk"):
        KCenter().check(model, Softmax())
    KCenter().check(model, TopK())
    Entropy().check(model, SoftRank())


def test_soft_ranks_tend_to_hard_ranks():
    ref = torch.tensor([0.3, 0.9, 0.1, 0.5])
    values = ref.clone()
    positions = torch.arange(4)

    def others(rows):
        return positions[None, :] != positions[rows, None]

    soft = soft_ranks(values, ref, others, temperature=1e-3)
    assert torch.allclose(soft, descending_ranks(ref).float(), atol=1e-3)
    # at a finite temperature: 1 + sigmoid((0.9-0.3)/0.5) + sigmoid(-0.4) + sigmoid(0.4)
    soft = soft_ranks(values, ref, others, temperature=0.5)[0]
    by_hand = 1 + torch.sigmoid(torch.tensor(1.2)) + 1.0  # sigmoid(-x) + sigmoid(x) = 1
    assert torch.allclose(soft, by_hand)


def test_suffix_log_normalisers_by_hand():
    w = torch.log(torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=torch.float64))
    keys = torch.tensor([-1.0, 2.0, float("inf"), 1.0, 2.0], dtype=torch.float64)
    out = torch.exp(suffix_log_normalisers(w, keys))
    # key >= -1: all (15); key >= 2 (ties share): 2+3+5 = 10; inf: 3; key >= 1: 2+3+4+5 = 14
    assert torch.allclose(out, torch.tensor([15.0, 10.0, 3.0, 14.0, 10.0], dtype=torch.float64))


def test_topk_breaks_ties_by_a_seeded_permutation_not_by_position():
    """all-equal scores (entropy 0 everywhere) gave positions 0..n-1."""
    scores = torch.zeros(50)
    picks = [TopK().select(scores, 5, torch.Generator().manual_seed(s)).positions for s in (1, 2)]
    assert picks[0].tolist() != list(range(5)) and picks[0].tolist() != picks[1].tolist()
    again = TopK().select(scores, 5, torch.Generator().manual_seed(1)).positions
    assert torch.equal(again, picks[0])
    distinct = torch.tensor([0.1, 0.9, 0.5, 0.9, 0.2])
    chosen = TopK().select(distinct, 3, torch.Generator().manual_seed(0)).positions.tolist()
    assert sorted(chosen[:2]) == [1, 3] and chosen[2] == 2
