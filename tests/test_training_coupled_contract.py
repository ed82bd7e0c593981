"""Contract of the six training-coupled strategies: one training round through their trainer
extension, then a query: n distinct unlabeled points, the same generator gives the same
batch, and a strategy restored from `state_dict` (a resumed run) queries identically."""

import pytest
import torch

from deepal_bench.data.dataset import ALData
from deepal_bench.data.pool import Pool
from deepal_bench.models import build_model
from deepal_bench.selection import TopK
from deepal_bench.strategies import QueryContext, build_strategy
from deepal_bench.training.estimators import IMLE, TrainContext
from deepal_bench.training.trainer import Trainer, TrainerConfig

FAST = {
    "ceal": {"delta0": 0.5, "decay": 0.0},
    "lpl": {"detach_epoch": 2, "extra_epochs": 1},
    "waal": {"fallback_steps": 3},
    "vaal": {"width": 8, "epochs": 1, "batch_size": 16},
    "adv_bim": {"max_iter": 5, "eps": 0.2, "add_adversarial": True},
    "adv_deepfool": {"max_iter": 5, "add_adversarial": True},
}


def _data(kind: str) -> ALData:
    gen = torch.Generator().manual_seed(0)
    shape = (1, 28, 28) if kind == "image" else (6,)
    x = torch.randn(60, *shape, generator=gen)
    y = torch.randint(0, 3, (60,), generator=gen)
    meta = {"mean": [0.5], "std": [0.25]} if kind == "image" else {}
    return ALData("toy", x[:48], y[:48], x[48:], y[48:], num_classes=3, meta=meta)


def _round(name: str, data: ALData):
    pool = Pool(len(data))
    pool.label(torch.arange(0, 48, 4))
    strategy = build_strategy({"name": name, **FAST[name]})
    torch.manual_seed(0)
    model = build_model({"name": "auto", "dropout": 0.5, "hidden": 16}, data.input_shape, 3)
    strategy.check(model, TopK())
    ext = strategy.trainer_extension()
    context = TrainContext(
        data, pool.labeled_indices(), 1, unlabeled=pool.unlabeled_indices(), seed=7
    )
    trainer = Trainer(TrainerConfig(epochs=2, batch_size=5), torch.device("cpu"))
    trainer.fit(model, context, IMLE(), torch.Generator().manual_seed(1), [ext] if ext else [])
    return strategy, model, pool


def _query(strategy, model, data, pool, n=5):
    ctx = QueryContext(model, data, pool, torch.Generator().manual_seed(3), seed=11)
    return strategy.query(ctx, n, TopK()).indices


@pytest.mark.parametrize("kind", ["image", "tabular"])
@pytest.mark.parametrize("name", sorted(FAST))
def test_contract_after_training_round(name, kind):
    data = _data(kind)
    strategy, model, pool = _round(name, data)
    first = _query(strategy, model, data, pool)
    assert len(first) == 5
    assert len(torch.unique(first)) == 5
    assert not pool.labeled[first].any()
    assert torch.equal(first, _query(strategy, model, data, pool))
    resumed = build_strategy({"name": name, **FAST[name]})
    resumed.load_state_dict(strategy.state_dict())
    assert torch.equal(first, _query(resumed, model, data, pool))


@pytest.mark.parametrize("name", sorted(FAST))
def test_query_without_training_round_is_deterministic(name):
    data = _data("tabular")
    pool = Pool(len(data))
    pool.label(torch.arange(0, 48, 3))
    torch.manual_seed(0)
    model = build_model({"name": "auto", "dropout": 0.5, "hidden": 16}, data.input_shape, 3)
    batches = [
        _query(build_strategy({"name": name, **FAST[name]}), model, data, pool) for _ in range(2)
    ]
    assert torch.equal(batches[0], batches[1])
    assert len(torch.unique(batches[0])) == 5 and not pool.labeled[batches[0]].any()
