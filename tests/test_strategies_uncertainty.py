"""VarRatio: DeepAL+'s one-pass 1 - max p by default, Freeman's MC ratio as an option."""

import pytest
import torch
from strategy_fixtures import build, query_context, trained_setup

from deepal_bench import kernels
from deepal_bench.errors import ConfigError
from deepal_bench.strategies import build_strategy
from deepal_bench.strategies.base import MC_DROPOUT, PROBS


class _Probs:
    """A context that serves only single-pass probabilities (asking for MC passes fails)."""

    def __init__(self, probs: torch.Tensor) -> None:
        self._probs = probs

    def probs(self) -> torch.Tensor:
        return self._probs

    def mc_probs(self, passes: int) -> torch.Tensor:
        raise AssertionError("one_pass var_ratio must not sample MC passes")


def test_default_var_ratio_is_one_minus_max_probability_of_one_pass():
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25], [0.5, 0.5, 0.0]])
    strategy = build("var_ratio")
    assert strategy.needs == frozenset({PROBS})
    assert torch.allclose(strategy.scores(_Probs(probs)), torch.tensor([0.3, 0.6, 0.5]))


def test_one_pass_var_ratio_is_differentiable_for_dmle():
    logits = torch.tensor([[2.0, 0.0, -1.0]], requires_grad=True)
    score = build("var_ratio").differentiable_score().function(torch.softmax(logits, 1)).sum()
    score.backward()
    assert logits.grad.abs().sum() > 0


def test_freeman_variant_counts_mc_modes():
    strategy = build_strategy({"name": "var_ratio", "variant": "freeman", "mc_passes": 4})
    assert strategy.needs == frozenset({MC_DROPOUT})
    # passes vote 0, 0, 1, 0 for the single point: mode count 3 of 4.
    mc = torch.tensor([[[0.9, 0.1]], [[0.6, 0.4]], [[0.2, 0.8]], [[0.7, 0.3]]])
    assert kernels.var_ratio(mc).item() == pytest.approx(0.25)
    assert strategy.differentiable_score() is None  # argmax votes: DMLE refuses it
    model, data, pool = trained_setup(strategy)
    ctx = query_context(model, data, pool)
    assert torch.equal(strategy.scores(ctx), kernels.var_ratio(ctx.mc_probs(4)))


def test_unknown_var_ratio_variant_is_a_config_error():
    with pytest.raises(ConfigError, match="freeman, one_pass"):
        build_strategy({"name": "var_ratio", "variant": "mode"})
