"""Batched adversarial kernels on hand-made linear classifiers, and the strategies' ranking."""

import pytest
import torch
from torch import nn

from deepal_bench.data.dataset import ALData
from deepal_bench.data.pool import Pool
from deepal_bench.kernels.adversarial import AdversarialResult, adversarial_scores, bim, deepfool
from deepal_bench.models.base import ALModel
from deepal_bench.selection import TopK
from deepal_bench.strategies import QueryContext, build_strategy
from deepal_bench.training.estimators import TrainContext

# three classes on the plane: class 0 has logit 0, class 1 is x1 - 1 (boundary x1 = 1),
# class 2 is x2 - 3 (boundary x2 = 3)
W = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
C = torch.tensor([0.0, -1.0, -3.0])


def linear(x: torch.Tensor) -> torch.Tensor:
    return x @ W.T + C


def test_deepfool_reaches_the_nearest_of_two_linear_boundaries():
    x = torch.tensor([[0.0, 0.0], [-5.0, 2.5]])
    result = deepfool(linear, x, max_iter=50, overshoot=0.02)
    # point 0: boundary of class 1 at distance 1 (class 2 at 3); point 1: class 2 at 0.5
    step0 = (1.0 + 1e-4) * 1.02
    step1 = (0.5 + 1e-4) * 1.02
    assert torch.allclose(result.perturbation, torch.tensor([[step0, 0.0], [0.0, step1]]))
    assert torch.allclose(result.norm, torch.tensor([step0, step1]))
    assert result.flipped.tolist() == [True, True]
    assert result.iterations.tolist() == [1, 1]
    assert linear(x + result.perturbation).argmax(1).tolist() == [1, 2]


def test_deepfool_stops_at_max_iter_when_it_cannot_flip():
    result = deepfool(lambda x: torch.stack([x.sum(1) * 0 + 1, x.sum(1) * 0], 1), torch.ones(3, 2))
    assert result.iterations.tolist() == [50, 50, 50] and not result.flipped.any()


def _ridge(x: torch.Tensor) -> torch.Tensor:
    # class 0 logit 0, class 1 logit x1 + x2 - 0.25; sign-gradient steps move along (1, 1)
    return torch.stack([torch.zeros(len(x)), x.sum(1) - 0.25], 1)


def test_bim_flips_after_the_hand_counted_steps():
    result = bim(_ridge, torch.zeros(1, 2), step=0.1, max_iter=10)
    assert result.iterations.tolist() == [2]  # sum 0.2 after one step, 0.4 after two
    assert torch.allclose(result.perturbation, torch.tensor([[0.2, 0.2]]))
    assert result.flipped.tolist() == [True]


def test_bim_iteration_cap():
    x = torch.tensor([[0.0, 0.0], [-10.0, -10.0]])
    result = bim(_ridge, x, step=0.1, max_iter=3)
    assert result.iterations.tolist() == [2, 3]  # the far point uses exactly the cap
    assert result.flipped.tolist() == [True, False]
    assert torch.allclose(result.perturbation[1], torch.tensor([0.3, 0.3]))


def test_bim_projects_onto_the_eps_ball_and_clips_pixels():
    ball = bim(_ridge, torch.zeros(1, 2), step=0.1, max_iter=10, eps_ball=0.15)
    assert torch.allclose(ball.perturbation, torch.tensor([[0.15, 0.15]]))
    assert ball.iterations.tolist() == [2]
    clipped = bim(_ridge, torch.zeros(1, 2), step=0.1, max_iter=4, clip=(-1.0, 0.1))
    assert torch.allclose(clipped.perturbation, torch.tensor([[0.1, 0.1]]))
    assert clipped.iterations.tolist() == [4] and not clipped.flipped.any()


def test_scores_rank_flipped_by_norm_then_unflipped_by_margin():
    result = AdversarialResult(
        perturbation=torch.empty(0),
        norm=torch.tensor([0.5, 0.2, 3.0, 3.0, 0.9]),
        flipped=torch.tensor([True, True, False, False, True]),
        iterations=torch.zeros(5, dtype=torch.long),
        margin=torch.tensor([-0.1, -0.1, 2.0, 0.5, -0.1]),
    )
    order = adversarial_scores(result).argsort(descending=True).tolist()
    assert order == [1, 0, 4, 3, 2]


class Linear2D(ALModel):
    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Linear(2, 3)
        with torch.no_grad():
            self.head.weight.copy_(W)
            self.head.bias.copy_(C)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return x


@pytest.mark.parametrize("name", ["adv_deepfool", "adv_bim"])
def test_strategies_query_points_closest_to_a_boundary(name):
    x = torch.tensor([[0.0, 0.0], [0.9, 0.0], [-5.0, 2.8], [-5.0, 0.0], [0.5, 0.5]])
    y = torch.tensor([0, 0, 0, 0, 1])
    data = ALData("toy", x, y, x, y, num_classes=3)
    pool = Pool(5)
    pool.label(torch.tensor([4]))
    strategy = build_strategy({"name": name, "add_adversarial": True})
    ctx = QueryContext(Linear2D(), data, pool, torch.Generator(), seed=0)
    chosen = strategy.query(ctx, 2, TopK()).indices
    assert chosen.tolist() == [1, 2]  # distances 0.1 and 0.2; the others are 1 and 3 away
    pool.label(chosen)
    xs, ys = strategy.trainer_extension().extra_data(TrainContext(data, pool.labeled_indices(), 1))
    assert ys.tolist() == [0, 0]  # adversarial examples carry the queried labels
    assert Linear2D()(xs).argmax(1).tolist() == [1, 2]
    assert strategy.trainer_extension() is None
