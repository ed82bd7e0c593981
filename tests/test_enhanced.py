"""CEAL's δ schedule and pseudo-label set; LPL's ranking loss, feature taps and loss module."""

import math

import pytest
import torch

from deepal_bench.data.dataset import ALData
from deepal_bench.data.pool import Pool
from deepal_bench.errors import ConfigError
from deepal_bench.models import build_model
from deepal_bench.models.lenet import LeNet
from deepal_bench.models.mlp import MLP
from deepal_bench.models.resnet import ResNet18
from deepal_bench.models.vit import SmallViT, ViTB16
from deepal_bench.selection import TopK
from deepal_bench.strategies import QueryContext, build_strategy
from deepal_bench.training.ceal import ceal_threshold
from deepal_bench.training.estimators import TrainContext
from deepal_bench.training.extensions import ChainExtension, TrainerExtension
from deepal_bench.training.lpl import build_lossnet, loss_prediction_loss


def test_ceal_threshold_decays_linearly_to_zero():
    assert ceal_threshold(1e-5, 0.033e-5, 0, "linear") == pytest.approx(1e-5)
    assert ceal_threshold(1e-5, 0.033e-5, 10, "linear") == pytest.approx(0.67e-5)
    assert ceal_threshold(1e-5, 0.033e-5, 30, "linear") == pytest.approx(0.01e-5)
    assert ceal_threshold(1e-5, 0.033e-5, 31, "linear") == 0.0


def test_ceal_threshold_decays_cumulatively_by_default_as_deepal_plus():
    """DeepAL+ subtracts dr * t at query t: after queries 1, 2, 3 delta0 - 6 dr."""
    delta = 1e-5
    for t in (1, 2, 3):
        delta -= 0.033e-5 * t
        assert ceal_threshold(1e-5, 0.033e-5, t, "cumulative") == pytest.approx(delta)
    assert ceal_threshold(1e-5, 0.033e-5, 7, "cumulative") == pytest.approx(1e-5 - 28 * 0.033e-5)
    assert ceal_threshold(1e-5, 0.033e-5, 8, "cumulative") == 0.0  # 1e-5 - 36 dr < 0
    assert build_strategy({"name": "ceal"}).decay_schedule == "cumulative"


def _two_class(p_second: float) -> list[float]:
    return [1.0 - p_second, p_second]


def _ceal_setup():
    x = torch.arange(8, dtype=torch.float32)[:, None].repeat(1, 2)
    y = torch.tensor([0, 1, 0, 1, 0, 1, 0, 1])
    data = ALData("toy", x, y, x, y, num_classes=2)
    pool = Pool(8)
    pool.label(torch.tensor([0, 1]))
    torch.manual_seed(0)
    model = build_model({"name": "mlp", "hidden": 4}, (2,), 2)
    ctx = QueryContext(model, data, pool, torch.Generator().manual_seed(0), seed=0)
    # candidates 2..7; entropies (nats): uniform 0.693, 1e-8 -> 1.9e-7, 5e-7 -> 7.8e-6,
    # 1e-6 -> 1.5e-5, 0.4 -> 0.67, 1 - 1e-8 (class 1) -> 1.9e-7
    probs = [_two_class(p) for p in (0.5, 1e-8, 5e-7, 1e-6, 0.4, 1 - 1e-8)]
    ctx._cache["probs"] = torch.tensor(probs, dtype=torch.float64)
    return data, pool, ctx


def test_ceal_queries_with_base_and_pseudo_labels_confident_rest():
    data, pool, ctx = _ceal_setup()
    strategy = build_strategy({"name": "ceal", "base": "entropy", "decay_schedule": "linear"})
    chosen = strategy.query(ctx, 2, TopK()).indices
    assert chosen.tolist() == [2, 6]  # the two highest entropies (entropy base)
    pool.label(chosen)
    ext = strategy.trainer_extension()
    x, y = ext.extra_data(TrainContext(data, pool.labeled_indices(), round=0))
    assert x[:, 0].tolist() == [3.0, 4.0, 7.0]  # entropy < δ_0 = 1e-5
    assert y.tolist() == [0, 0, 1]  # predicted labels, not the true ones
    later = ext.extra_data(TrainContext(data, pool.labeled_indices(), round=10))
    assert later[0][:, 0].tolist() == [3.0, 7.0]  # δ_10 = 6.7e-6 drops entropy 7.8e-6
    assert ext.extra_data(TrainContext(data, pool.labeled_indices(), round=31)) is None
    assert strategy.trainer_extension() is None  # pseudo-labels serve one round only


def test_ceal_resolves_any_base_by_name_and_chains_its_extension():
    data, pool, ctx = _ceal_setup()
    strategy = build_strategy({"name": "ceal", "base": "lpl", "delta0": 1e-5})
    strategy.query(ctx, 1, TopK())
    assert isinstance(strategy.trainer_extension(), ChainExtension)
    with pytest.raises(ConfigError, match="valid choices|Valid choices"):
        build_strategy({"name": "ceal", "base": "no_such_strategy"})
    with pytest.raises(ConfigError):
        build_strategy({"name": "ceal", "base": "ceal"})


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


def test_chain_extension_concatenates_data_and_sums_losses():
    class Fixed(TrainerExtension):
        def __init__(self, value: float) -> None:
            self.value = value

        def extra_data(self, context):
            return torch.full((1, 2), self.value), torch.tensor([int(self.value)])

        def loss(self, step):
            return torch.tensor(self.value)

    chained = ChainExtension([Fixed(1.0), Fixed(2.0)])
    x, y = chained.extra_data(None)
    assert x.tolist() == [[1.0, 1.0], [2.0, 2.0]] and y.tolist() == [1, 2]
    assert chained.loss(None).item() == 3.0
