"""LPL (strategies/lpl.py, training/lpl.py): ranking loss, feature taps, loss module."""

import math

import pytest
import torch

from deepal_bench.data.dataset import ALData
from deepal_bench.data.pool import Pool
from deepal_bench.errors import ConfigError
from deepal_bench.models.lenet import LeNet
from deepal_bench.models.mlp import MLP
from deepal_bench.models.resnet import ResNet18
from deepal_bench.models.vit import SmallViT, ViTB16
from deepal_bench.selection import TopK
from deepal_bench.strategies import QueryContext, build_strategy
from deepal_bench.training.lpl import build_lossnet, loss_prediction_loss


def test_ranking_loss_on_known_pairs():
    pred = torch.tensor([2.0, 0.5], requires_grad=True)
    # target says item 1 has the larger loss but item 0 is predicted larger: 1 + 1.5
    assert loss_prediction_loss(pred, torch.tensor([1.0, 3.0])).item() == pytest.approx(2.5)
    # consistent ordering beyond the margin: no loss
    assert loss_prediction_loss(pred, torch.tensor([3.0, 1.0])).item() == 0.0
    # within the margin: 1 - 0.2
    close = torch.tensor([0.7, 0.5])
    assert loss_prediction_loss(close, torch.tensor([3.0, 1.0])).item() == pytest.approx(0.8)
    loss_prediction_loss(pred, torch.tensor([1.0, 3.0])).backward()
    assert pred.grad.tolist() == [1.0, -1.0]


def test_ranking_loss_with_odd_batch_leaves_middle_out():
    target = torch.tensor([1.0, 5.0, 3.0])
    a = loss_prediction_loss(torch.tensor([0.0, 9.0, 0.0]), target)
    b = loss_prediction_loss(torch.tensor([0.0, -9.0, 0.0]), target)
    assert a.item() == b.item() == pytest.approx(1.0)  # pair (0, 2) only: sign -1, margin 1
    single = torch.tensor([4.0], requires_grad=True)
    loss = loss_prediction_loss(single, torch.tensor([1.0]))
    loss.backward()
    assert loss.item() == 0.0 and single.grad.tolist() == [0.0]


@pytest.mark.parametrize(
    ("model", "shape", "dims"),
    [
        (LeNet(1, 28, 10), (1, 28, 28), [6, 16, 120, 84]),
        (LeNet(3, 32, 10), (3, 32, 32), [6, 16, 120, 84]),
        (MLP((13,), 3, hidden=8), (13,), [8, 8]),
        (ResNet18(3, 10, "cifar"), (3, 32, 32), [64, 128, 256, 512]),
        (ResNet18(1, 10, "imagenet"), (1, 32, 32), [64, 128, 256, 512]),
        (SmallViT(3, 32, 10, dim=16, depth=6, heads=2, mlp_dim=16), (3, 32, 32), [16] * 4),
    ],
)
def test_feature_taps_size_the_loss_module(model, shape, dims):
    lossnet = build_lossnet(model, torch.randn(2, *shape), interm_dim=8)
    assert [fc.in_features for fc in lossnet.fcs] == dims


def test_vit_b16_taps_every_third_block():
    model = ViTB16(10)
    blocks = list(model.backbone.encoder.layers)
    assert model.feature_taps() == [blocks[2], blocks[5], blocks[8], blocks[11]]


def test_lpl_refuses_model_without_taps():
    class NoTaps(MLP):
        def feature_taps(self):
            return []

    with pytest.raises(ConfigError, match="feature taps"):
        build_strategy({"name": "lpl"}).check(NoTaps((4,), 2), TopK())


def test_lpl_scores_are_the_loss_module_output():
    torch.manual_seed(0)
    model = MLP((3,), 2, hidden=4, dropout=0.0)
    x = torch.randn(6, 3)
    data = ALData("toy", x, torch.zeros(6, dtype=torch.long), x, torch.zeros(6), 2)
    pool = Pool(6)
    pool.label(torch.tensor([0]))
    strategy = build_strategy({"name": "lpl"})
    lossnet = build_lossnet(model, x[:2], 128)
    strategy.remember(pool.labeled_indices(), lossnet)
    ctx = QueryContext(model, data, pool, torch.Generator(), seed=0)
    hidden = torch.relu(model.body[1](x[1:]))
    expected = lossnet([hidden, torch.relu(model.body[3](hidden))])
    assert torch.allclose(strategy.scores(ctx), expected, atol=1e-6)
    assert not math.isnan(float(strategy.scores(ctx).sum()))
