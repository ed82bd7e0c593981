"""CEAL (strategies/ceal.py, training/ceal.py): the delta schedule and the pseudo-labels."""

import pytest
import torch

from deepal_bench.data.dataset import ALData
from deepal_bench.data.pool import Pool
from deepal_bench.errors import ConfigError
from deepal_bench.models import build_model
from deepal_bench.selection import TopK
from deepal_bench.strategies import QueryContext, build_strategy
from deepal_bench.training.ceal import ceal_threshold
from deepal_bench.training.estimators import TrainContext
from deepal_bench.training.extensions import ChainExtension


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


def test_ceal_refuses_a_ceal_base_by_class_whatever_its_registered_name(monkeypatch):
    from deepal_bench.strategies import STRATEGIES

    ceal = STRATEGIES.get("ceal")
    monkeypatch.setitem(STRATEGIES._items, "my_ceal", ceal)
    for name in ("ceal", "my_ceal"):
        with pytest.raises(ConfigError, match=f"strategy.base cannot be '{name}' \\(CEAL\\)"):
            build_strategy({"name": "ceal", "base": name})
