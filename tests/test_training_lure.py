"""LURE (Farquhar et al. 2021 eq. 4): weights and weighted loss on a hand-computed case."""

import math

import pytest
import torch
import torch.nn.functional as F

from deepal_bench.data.dataset import ALData
from deepal_bench.errors import ConfigError
from deepal_bench.selection import SelectionRecord, Softmax, TopK
from deepal_bench.strategies.uncertainty import Entropy
from deepal_bench.training.estimators import TrainContext, TrainStep
from deepal_bench.training.lure import LURE, lure_weights


def test_lure_weights_by_hand():
    # N = 10, M = 3: m=1 uniform (q = 1/10) -> 1; m=2 q=0.3 -> 1 + 7/8 (1/(9*0.3) - 1);
    # m=3 q=0.05 -> 1 + 7/7 (1/(8*0.05) - 1) = 2.5
    log_q = torch.log(torch.tensor([0.1, 0.3, 0.05], dtype=torch.float64))
    v = lure_weights(10, log_q)
    assert v.tolist() == pytest.approx([1.0, 1 + 7 / 8 * (1 / 2.7 - 1), 2.5])


def _context(log_probs: torch.Tensor, kind: str = "softmax") -> TrainContext:
    x = torch.randn(10, 2, generator=torch.Generator().manual_seed(0))
    y = torch.arange(10) % 2
    data = ALData("toy", x, y, x, y, 2)
    records = [SelectionRecord(1, torch.tensor([7, 3]), kind, 1.0, "entropy", log_probs)]
    return TrainContext(data, torch.tensor([3, 5, 7]), 1, records)


def test_lure_loss_weights_each_point_by_its_acquisition_order():
    """Initial point 5 (m=1, v=1); then 7 (m=2, q=0.3) and 3 (m=3, q=0.05) from the record."""
    context = _context(torch.log(torch.tensor([0.3, 0.05])))
    logits = torch.tensor([[0.2, -0.1], [1.0, 0.5], [-0.3, 0.4], [0.0, 0.0]])
    indices = torch.tensor([5, 7, 3, -1])  # -1: extra data (weight 1)
    y = torch.tensor([1, 1, 1, 0])
    step = TrainStep(None, None, y, indices, logits, None, 1, context)
    v = torch.tensor([1.0, 1 + 7 / 8 * (1 / 2.7 - 1), 2.5, 1.0])
    expected = (v * F.cross_entropy(logits, y, reduction="none")).mean()
    assert LURE().loss(step).item() == pytest.approx(expected.item(), rel=1e-6)


def test_uniform_selection_gives_unit_weights():
    # q equal to 1/(N - m + 1): every weight is exactly 1 (LURE reduces to the plain mean)
    log_q = -torch.log(torch.tensor([10.0, 9.0, 8.0, 7.0], dtype=torch.float64))
    assert torch.allclose(lure_weights(10, log_q), torch.ones(4, dtype=torch.float64))
    assert math.isfinite(float(lure_weights(4, log_q).sum()))


def test_lure_rejects_topk():
    with pytest.raises(ConfigError, match="selection=topk"):
        LURE().check(Entropy().differentiable_score(), TopK())
    LURE().check(Entropy().differentiable_score(), Softmax())
    context = _context(torch.full((2,), float("nan")), kind="topk")
    with pytest.raises(ConfigError, match="deterministic"):
        LURE().weights(context)
