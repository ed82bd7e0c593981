"""WAAL: Wasserstein term, gradient penalty, query score and the min-max training hooks."""

import math

import pytest
import torch
from torch import nn

from deepal_bench.data.dataset import ALData
from deepal_bench.data.pool import Pool
from deepal_bench.errors import ConfigError
from deepal_bench.models.mlp import MLP
from deepal_bench.selection import TopK
from deepal_bench.strategies import QueryContext, build_strategy
from deepal_bench.strategies.waal import waal_scores
from deepal_bench.training.estimators import IMLE, TrainContext
from deepal_bench.training.trainer import Trainer, TrainerConfig
from deepal_bench.training.waal import gradient_penalty, wasserstein


class LinearCritic(nn.Module):
    def __init__(self, w: list[float]) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z @ self.w


def test_wasserstein_is_unlabeled_mean_minus_gamma_labeled_mean():
    critic = LinearCritic([1.0, 0.0])
    z_l = torch.tensor([[1.0, 5.0], [3.0, 5.0]])  # critic values 1, 3: mean 2
    z_u = torch.tensor([[4.0, 0.0], [6.0, 0.0], [8.0, 0.0]])  # mean 6
    assert wasserstein(critic, z_l, z_u, gamma=0.5).item() == pytest.approx(6 - 0.5 * 2)


def test_gradient_penalty_of_a_linear_critic():
    critic = LinearCritic([3.0, 4.0])  # gradient norm 5 everywhere: (5 - 1)^2
    gen = torch.Generator().manual_seed(0)
    gp = gradient_penalty(critic, torch.randn(4, 2), torch.randn(4, 2), gen)
    assert gp.item() == pytest.approx(16.0)


def test_query_score_prefers_uncertain_points_the_critic_rates_unlabeled():
    probs = torch.tensor([[0.5, 0.5], [0.5, 0.5], [0.99, 0.01]])
    critic = torch.tensor([0.3, 0.1, 0.3])
    u_uniform = 0.5 * math.log(2) * math.sqrt(2) + 0.5 * 2 * math.log(2)
    scores = waal_scores(probs, critic, selection=10.0)
    assert scores[0].item() == pytest.approx(3.0 - u_uniform, rel=1e-5)
    assert scores[1].item() == pytest.approx(1.0 - u_uniform, rel=1e-5)
    assert scores.argsort(descending=True).tolist() == [0, 1, 2]


def _toy():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(40, 4, generator=gen)
    y = (x[:, 0] > 0).long()
    data = ALData("toy", x, y, x, y, num_classes=2)
    pool = Pool(40)
    pool.label(torch.arange(10))
    return data, pool


def test_training_hooks_train_the_critic_and_store_it_for_the_query():
    data, pool = _toy()
    strategy = build_strategy({"name": "waal", "alpha": 1.0})
    ext = strategy.trainer_extension()
    torch.manual_seed(0)
    model = MLP((4,), 2, hidden=8)
    context = TrainContext(data, pool.labeled_indices(), 1, unlabeled=pool.unlabeled_indices())
    Trainer(TrainerConfig(epochs=3, batch_size=4), torch.device("cpu")).fit(
        model, context, IMLE(), torch.Generator().manual_seed(0), [ext]
    )
    assert ext.gamma == pytest.approx(10 / 30)  # N_l / N_u
    assert ext.batches.pos > 0  # unlabeled batches were drawn alongside the labeled ones
    state = strategy.state_dict()
    assert torch.equal(state["labeled"], torch.arange(10))
    critic = ext.critic.eval()
    ctx = QueryContext(model, data, pool, torch.Generator(), seed=0)
    with torch.no_grad():
        expected = waal_scores(ctx.probs(), critic(ctx.embeddings()), 10.0)
    assert torch.allclose(strategy.scores(ctx), expected)
    assert len(strategy.query(ctx, 4, TopK()).indices) == 4


def test_pool_epoch_size_repeats_labeled_points_up_to_the_pool():
    data, pool = _toy()
    ext = build_strategy({"name": "waal", "epoch_size": "pool"}).trainer_extension()
    context = TrainContext(data, pool.labeled_indices(), 1, unlabeled=pool.unlabeled_indices())
    x, y = ext.extra_data(context)
    assert len(y) == 20  # 10 labeled + 20 repeats = 30 unlabeled
    assert torch.equal(x, data.x_train[torch.arange(20) % 10])
    with pytest.raises(ConfigError, match="epoch_size"):
        build_strategy({"name": "waal", "epoch_size": "everything"})
