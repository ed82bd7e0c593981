"""MC sampling in train mode (model.mc_sampling=train_mode, DeepAL+'s
predict_prob_dropout_split): full forward passes in train mode over the inputs in order, in
batches, without changing BatchNorm's running statistics."""

import copy

import pytest
import torch
from torch import nn

from deepal_bench.models import build_model
from deepal_bench.training.inference import mc_dropout_mode, mc_dropout_probs, predict


def _resnet(dropout: float) -> nn.Module:
    torch.manual_seed(0)
    model = build_model(
        {"name": "resnet18", "dropout": dropout, "mc_sampling": "train_mode"}, (3, 8, 8), 4
    )
    model.train()
    model(torch.randn(16, 3, 8, 8))  # non-trivial running statistics
    return model.eval()


def test_train_mode_passes_are_full_train_mode_forwards_in_batches():
    model = _resnet(0.0)
    x = torch.randn(10, 3, 8, 8)
    mc = mc_dropout_probs(model, x, passes=3, seed=0, batch_size=4)
    naive = copy.deepcopy(model).train()
    with torch.no_grad():
        expected = torch.cat([torch.softmax(naive(x[i : i + 4]), 1) for i in (0, 4, 8)])
    assert mc.shape == (3, 10, 4)
    for p in range(3):
        assert torch.allclose(mc[p], expected, atol=1e-5)
    eval_probs, _ = predict(model, x)
    assert not torch.allclose(mc[0], eval_probs, atol=1e-3)  # batch, not running, statistics


def test_train_mode_batch_size_changes_batchnorm_statistics():
    model = _resnet(0.0)
    x = torch.randn(10, 3, 8, 8)
    by4 = mc_dropout_probs(model, x, passes=1, seed=0, batch_size=4)
    by10 = mc_dropout_probs(model, x, passes=1, seed=0, batch_size=10)
    assert not torch.allclose(by4, by10, atol=1e-4)


def test_train_mode_sampling_keeps_running_statistics_and_eval_mode():
    model = _resnet(0.5)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(6, 3, 8, 8)
    mc = mc_dropout_probs(model, x, passes=4, seed=1, batch_size=3)
    assert not torch.allclose(mc[0], mc[1])  # dropout samples on top of batch statistics
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key  # num_batches_tracked included
    assert not model.training
    assert torch.equal(mc, mc_dropout_probs(model, x, passes=4, seed=1, batch_size=3))


def test_train_mode_context_restores_statistics_under_autograd():
    model = _resnet(0.0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(5, 3, 8, 8)
    with mc_dropout_mode(model):
        assert all(m.training for m in model.modules())
        loss = model(x).sum()
    loss.backward()
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


class _Shift:
    """A stand-in query transform: adds 0.1 per call, so every batch of every pass differs."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return x + 0.1 * self.calls


@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_transformed_passes_are_full_forwards_of_their_own_draws(dropout):
    """With a transform every pass (train mode or dropout mode) is a full forward of its own
    transformed batches, passes outer, batches inner; eval-mode predictions see one draw."""
    model = _resnet(dropout)
    model.mc_sampling = "train_mode" if dropout == 0.0 else "dropout"
    x = torch.randn(6, 3, 8, 8)
    mc = mc_dropout_probs(model, x, passes=2, seed=0, batch_size=4, transform=_Shift())
    naive = copy.deepcopy(model).eval()
    with torch.no_grad(), mc_dropout_mode(naive), torch.random.fork_rng():
        torch.manual_seed(0)
        shift = _Shift()
        expected = [
            torch.cat([torch.softmax(naive(shift(x[i : i + 4])), 1) for i in (0, 4)])
            for _ in range(2)
        ]
    assert torch.allclose(mc[0], expected[0], atol=1e-5)
    assert torch.allclose(mc[1], expected[1], atol=1e-5)
    probs, _ = predict(model, x, batch_size=4, transform=_Shift())
    with torch.no_grad():
        plain = torch.cat(
            [torch.softmax(model(x[:4] + 0.1), 1), torch.softmax(model(x[4:] + 0.2), 1)]
        )
    assert torch.allclose(probs, plain, atol=1e-5)


def test_dropout_mode_is_unchanged_by_default():
    torch.manual_seed(0)
    model = build_model({"name": "resnet18"}, (3, 8, 8), 4).eval()
    with mc_dropout_mode(model):
        kinds = {type(m) for m in model.modules() if m.training}
    assert kinds == {nn.Dropout}


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_train_mode_sampling_on_cuda_is_seeded_and_keeps_statistics():
    model = _resnet(0.3).cuda()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(10, 3, 8, 8, device="cuda")
    mc = mc_dropout_probs(model, x, passes=3, seed=2, batch_size=4)
    assert mc.device.type == "cuda" and not torch.allclose(mc[0], mc[1])
    assert torch.equal(mc, mc_dropout_probs(model, x, passes=3, seed=2, batch_size=4))
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
