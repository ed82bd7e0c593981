"""Model options the paper presets need: dropout 0 (no layer), mc_sampling, LeNet pool,
MLP depth, and the MC start-up check that follows mc_sampling."""

import copy

import pytest
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from strategy_fixtures import STRATEGY_CONF
from torch import nn

import deepal_bench.cli.run  # noqa: F401  (registers the config resolvers)
from deepal_bench.errors import ConfigError
from deepal_bench.models import build_model
from deepal_bench.run.loop import Experiment
from deepal_bench.selection import TopK
from deepal_bench.strategies import build_strategy


def _dropouts(model: nn.Module) -> list[nn.Module]:
    return [m for m in model.modules() if isinstance(m, nn.modules.dropout._DropoutNd)]


@pytest.mark.parametrize(
    ("cfg", "shape"),
    [
        ({"name": "resnet18", "dropout": 0.0}, (3, 8, 8)),
        ({"name": "lenet", "dropout": 0.0}, (1, 28, 28)),
        ({"name": "mlp", "dropout": 0.0, "hidden": 8}, (5,)),
    ],
)
def test_dropout_zero_builds_no_dropout_layer(cfg, shape):
    torch.manual_seed(0)
    model = build_model(cfg, shape, 3)
    assert _dropouts(model) == []
    assert not model.has_dropout()
    x = torch.randn(4, *shape)
    model.eval()
    expected = model(x)
    model.train()
    if not any(isinstance(m, nn.BatchNorm2d) for m in model.modules()):
        assert torch.equal(model(x), expected)  # train mode samples nothing


def test_resnet18_default_keeps_dropout_before_the_head():
    model = build_model({"name": "resnet18"}, (3, 8, 8), 3)
    assert [m.p for m in _dropouts(model)] == [0.3]
    assert model.mc_sampling == "dropout"


def test_mc_sampling_is_set_on_every_model_and_checked():
    model = build_model({"name": "mlp", "mc_sampling": "train_mode"}, (4,), 3)
    assert model.mc_sampling == "train_mode"
    with pytest.raises(ConfigError, match="dropout, train_mode"):
        build_model({"name": "lenet", "mc_sampling": "always"}, (1, 28, 28), 3)


def test_query_transform_is_optional_set_on_the_model_and_checked():
    assert build_model({"name": "mlp"}, (4,), 3).query_transform == "none"
    model = build_model({"name": "resnet18", "query_transform": "train"}, (3, 8, 8), 3)
    assert model.query_transform == "train"
    with pytest.raises(ConfigError, match="model.query_transform.*none, train"):
        build_model({"name": "lenet", "query_transform": "test"}, (1, 28, 28), 3)


def test_lenet_avg_pool_averages_2x2_blocks():
    torch.manual_seed(0)
    avg = build_model({"name": "lenet", "pool": "avg", "dropout": 0.0}, (1, 32, 32), 4).eval()
    x = torch.randn(2, 1, 32, 32)
    conv1, conv2 = avg.features[0], avg.features[3]
    h = F.relu(conv1(x))
    h = (h[..., ::2, ::2] + h[..., 1::2, ::2] + h[..., ::2, 1::2] + h[..., 1::2, 1::2]) / 4
    h = F.relu(conv2(h))
    h = (h[..., ::2, ::2] + h[..., 1::2, ::2] + h[..., ::2, 1::2] + h[..., 1::2, 1::2]) / 4
    assert torch.allclose(avg.features(x), h.flatten(1), atol=1e-6)
    maxed = build_model({"name": "lenet"}, (1, 32, 32), 4)
    assert isinstance(maxed.features[2], nn.MaxPool2d)
    with pytest.raises(ConfigError, match="avg, max"):
        build_model({"name": "lenet", "pool": "median"}, (1, 32, 32), 4)


def test_mlp_layers_counts_hidden_layers():
    one = build_model({"name": "mlp", "layers": 1, "hidden": 64, "dropout": 0.0}, (4,), 3)
    linears = [m for m in one.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(4, 64), (64, 3)]
    three = build_model({"name": "mlp", "layers": 3, "hidden": 8}, (4,), 3)
    linears = [m for m in three.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(4, 8), (8, 8), (8, 8), (8, 3)]
    assert len(three.feature_taps()) == 3
    with pytest.raises(ConfigError, match="model.layers"):
        build_model({"name": "mlp", "layers": 0}, (4,), 3)


def test_mlp_default_is_still_two_hidden_layers():
    model = build_model({"name": "mlp", "hidden": 8}, (4,), 3)
    assert [k for k in model.state_dict() if k.endswith("weight")] == [
        "body.1.weight",
        "body.3.weight",
        "head.weight",
    ]


def test_auto_passes_layers_and_pool_on():
    mlp = build_model({"name": "auto", "layers": 1, "hidden": 16}, (4,), 3)
    assert sum(isinstance(m, nn.Linear) for m in mlp.modules()) == 2
    lenet = build_model({"name": "auto", "pool": "avg"}, (1, 28, 28), 3)
    assert isinstance(lenet.features[2], nn.AvgPool2d)


@pytest.mark.parametrize("name", ["bald", "entropy_dropout", "mean_std"])
def test_mc_check_accepts_batchnorm_in_train_mode_without_dropout(name):
    strategy = build_strategy({"name": name})
    resnet = build_model(
        {"name": "resnet18", "dropout": 0.0, "mc_sampling": "train_mode"}, (3, 8, 8), 3
    )
    strategy.check(resnet, TopK())
    mlp = build_model({"name": "mlp", "dropout": 0.0, "mc_sampling": "train_mode"}, (4,), 3)
    with pytest.raises(ConfigError, match="needs MC dropout"):
        strategy.check(mlp, TopK())  # no BatchNorm: every pass = the eval-mode prediction
    plain = build_model({"name": "resnet18", "dropout": 0.0}, (3, 8, 8), 3)
    with pytest.raises(ConfigError, match="needs MC dropout"):
        strategy.check(plain, TopK())


def test_a_frozen_backbone_does_not_count_as_train_mode_batchnorm():
    frozen = build_model(
        {"name": "resnet50", "freeze": True, "mc_sampling": "train_mode"}, (3, 8, 8), 3
    )
    assert not frozen.can_mc_sample()
    unfrozen = copy.deepcopy(frozen)
    unfrozen.frozen = False
    assert unfrozen.can_mc_sample()


def _experiment(*overrides: str) -> Experiment:
    with initialize_config_dir(str(STRATEGY_CONF.parent), version_base="1.3"):
        cfg = compose("config", overrides=["device=cpu", "dataset=digits", *overrides])
    return Experiment.from_config(cfg)


def test_deepal_plus_resnet18_settings_start_a_bald_run():
    exp = _experiment(
        "strategy=bald", "model=resnet18", "model.dropout=0.0", "model.mc_sampling=train_mode"
    )
    model = exp.new_model(seed=0)
    assert model.mc_sampling == "train_mode" and not model.has_dropout()
    assert model.query_transform == "none"
    exp = _experiment("strategy=bald", "model=resnet18", "+model.query_transform=train")
    assert exp.new_model(seed=0).query_transform == "train"
    with pytest.raises(ConfigError, match="needs MC dropout"):
        _experiment(
            "strategy=bald", "model=mlp", "model.dropout=0.0", "model.mc_sampling=train_mode"
        )
