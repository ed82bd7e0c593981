"""A tiny model + data fixture served through the real QueryContext and Trainer."""

from pathlib import Path

import torch
from omegaconf import OmegaConf

from deepal_bench.data.dataset import ALData
from deepal_bench.data.pool import Pool
from deepal_bench.models import build_model
from deepal_bench.models.base import ALModel
from deepal_bench.seeding import generator
from deepal_bench.strategies import QueryContext, Strategy, build_strategy
from deepal_bench.training.estimators import IMLE, TrainContext
from deepal_bench.training.trainer import Trainer, TrainerConfig

STRATEGY_CONF = Path(__file__).resolve().parent.parent / "conf" / "strategy"
N_CLASSES, N_TRAIN, N_LABELED = 6, 90, 12


def blobs() -> ALData:
    """Six Gaussian blobs in 8 dimensions: 90 training and 30 test points."""
    g = torch.Generator().manual_seed(0)
    centres = 3.0 * torch.randn(N_CLASSES, 8, generator=g)
    y = torch.arange(120) % N_CLASSES
    x = centres[y] + torch.randn(120, 8, generator=g)
    return ALData("blobs", x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:], N_CLASSES)


def strategy_config(name: str) -> dict:
    """The strategy's YAML defaults (conf/strategy/<name>.yaml), or just its name."""
    path = STRATEGY_CONF / f"{name}.yaml"
    if path.exists():
        return OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    return {"name": name}


def trained_setup(strategy: Strategy, seed: int = 0) -> tuple[ALModel, ALData, Pool]:
    """MLP with dropout trained one round on 12 labeled points, with the strategy's trainer
    extension when it has one (so strategies that train extra modules are ready to query)."""
    data = blobs()
    torch.manual_seed(seed)
    model = build_model({"name": "mlp", "hidden": 16, "dropout": 0.5}, (8,), N_CLASSES)
    pool = Pool(N_TRAIN)
    pool.label(torch.arange(N_LABELED))
    trainer = Trainer(TrainerConfig(epochs=3, batch_size=8), torch.device("cpu"))
    extension = strategy.trainer_extension()
    trainer.fit(
        model,
        TrainContext(data, pool.labeled_indices(), 1, []),
        IMLE(),
        generator(seed, 1, "train"),
        [extension] if extension is not None else [],
    )
    return model, data, pool


def query_context(model: ALModel, data: ALData, pool: Pool, seed: int = 0) -> QueryContext:
    return QueryContext(model, data, pool, generator(seed, 1, "query"), seed=seed)


def build(name: str) -> Strategy:
    return build_strategy(strategy_config(name))
