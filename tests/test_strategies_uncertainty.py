"""VarRatio: DeepAL+'s one-pass 1 - max p by default, Freeman's MC ratio as an option."""

import copy

import pytest
import torch
from strategy_fixtures import build, query_context, trained_setup
from torch import nn

from deepal_bench import kernels
from deepal_bench.data.dataset import ALData
from deepal_bench.data.pool import Pool
from deepal_bench.errors import ConfigError
from deepal_bench.models import build_model
from deepal_bench.models.base import ALModel
from deepal_bench.strategies import QueryContext, build_strategy
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


def _grad_norm_loop(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The reference's loop (xulabs/aitom al_gradnorm compute_gradnorm): one input at a time,
    entropy backpropagated in eval mode, the norms of the parameters' gradients summed."""
    model.eval()
    out = []
    for xi in x:
        model.zero_grad()
        p = torch.softmax(model(xi[None]), 1)
        (-(p * p.log()).sum()).backward()
        out.append(sum(q.grad.norm() for q in model.parameters() if q.grad is not None))
    return torch.stack(out).detach()


class _ConvBN(ALModel):
    """A conv layer, BatchNorm, in-place ReLU (as in ResNet18), pooling and a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )  # fmt: skip
        self.head = nn.Linear(4, 3)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


@pytest.mark.parametrize("shape", [(8,), (3, 6, 6)])
def test_grad_norm_sums_the_gradient_norms_over_the_whole_network(shape):
    """Per-sample entropy gradients over every parameter tensor (RALIF §5's GradNorm), not
    only the head's: equal to a per-sample backward loop, BatchNorm in eval mode."""
    torch.manual_seed(0)
    if len(shape) == 1:
        model = build_model({"name": "mlp", "dropout": 0.3, "hidden": 5}, shape, 3)
    else:
        model = _ConvBN().train()
        model(torch.randn(8, *shape))  # non-trivial BatchNorm running statistics
    data = ALData("x", torch.randn(7, *shape), torch.arange(7) % 3, torch.randn(2, *shape),
                  torch.arange(2), 3)  # fmt: skip
    pool = Pool(7)
    pool.label(torch.tensor([0, 3]))
    ctx = QueryContext(model.eval(), data, pool, torch.Generator(), seed=0, batch_size=3)
    scores = build_strategy({"name": "grad_norm", "chunk_size": 2}).scores(ctx)
    expected = _grad_norm_loop(copy.deepcopy(model), data.x_train[ctx.candidates])
    assert torch.allclose(scores, expected, rtol=1e-4)
    entropy = kernels.logit_entropy(model(data.x_train[ctx.candidates[:1]]))
    head = sum(q.norm() for q in torch.autograd.grad(entropy, list(model.head.parameters())))
    assert scores[0] > head * 1.01  # the backbone's gradients count too
