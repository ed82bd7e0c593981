"""Kernels of the first strategy set on hand-made cases."""

import math

import pytest
import torch

from deepal_bench import kernels


def test_entropy_orders_rows_by_uncertainty():
    probs = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    scores = kernels.entropy(probs)
    assert torch.allclose(scores, torch.tensor([0.0, math.log(2), math.log(3)]), atol=1e-6)
    assert scores.argsort().tolist() == [0, 1, 2]


def test_margin_and_least_confidence_by_hand():
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25]])
    assert torch.allclose(kernels.margin(probs), torch.tensor([-0.5, -0.05]), atol=1e-6)
    assert torch.allclose(kernels.least_confidence(probs), torch.tensor([0.3, 0.6]), atol=1e-6)


def test_bald_is_zero_when_passes_agree_and_positive_when_they_disagree():
    agree = torch.tensor([[[0.5, 0.5]], [[0.5, 0.5]]])
    disagree = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]])
    assert kernels.bald(agree).item() == pytest.approx(0.0, abs=1e-6)
    # H(mean) = log 2, mean H = 0
    assert kernels.bald(disagree).item() == pytest.approx(math.log(2), abs=1e-6)


def test_var_ratio_is_one_minus_mode_frequency_not_least_confidence():
    # 4 passes, 1 point: predicted labels 0, 0, 0, 1 -> mode frequency 3/4
    mc = torch.tensor([[[0.6, 0.4]], [[0.9, 0.1]], [[0.55, 0.45]], [[0.2, 0.8]]])
    assert kernels.var_ratio(mc).item() == pytest.approx(0.25)
    assert kernels.var_ratio(mc).item() != pytest.approx(
        kernels.least_confidence(mc.mean(0)).item()
    )
