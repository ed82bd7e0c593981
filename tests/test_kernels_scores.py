"""Score kernels on hand-computed probabilities."""

import math

import pytest
import torch

from deepal_bench import kernels


def test_score_functions_on_hand_computed_probabilities():
    p = torch.tensor([[0.5, 0.5, 0.0], [0.7, 0.2, 0.1]])
    assert torch.allclose(kernels.entropy(p), torch.tensor([math.log(2), 0.8018185]), atol=1e-6)
    assert torch.allclose(kernels.margin(p), torch.tensor([0.0, -0.5]))
    assert torch.allclose(kernels.least_confidence(p), torch.tensor([0.5, 0.3]))


def test_var_ratio_is_freemans_mode_frequency_not_least_confidence():
    # 4 passes over 1 point predicting classes 0, 0, 1, 2: variation ratio 1 - 2/4.
    mc = torch.tensor([[[0.6, 0.3, 0.1]], [[0.5, 0.4, 0.1]], [[0.2, 0.7, 0.1]], [[0.1, 0.2, 0.7]]])
    assert kernels.var_ratio(mc).item() == pytest.approx(0.5)
    assert kernels.least_confidence_dropout(mc).item() == pytest.approx(1 - 0.4)
    # All passes agree although each is uncertain: VR 0, least confidence high.
    agree = torch.tensor([[[0.4, 0.35, 0.25]]]).repeat(5, 1, 1)
    assert kernels.var_ratio(agree).item() == 0.0
    assert kernels.least_confidence_dropout(agree).item() == pytest.approx(0.6)


def test_bald_and_mean_std_by_hand():
    # Two passes that disagree completely: H(mean) = log 2, mean H = 0.
    mc = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]])
    assert kernels.bald(mc).item() == pytest.approx(math.log(2))
    assert kernels.mean_std(mc).item() == pytest.approx(0.5)
    same = torch.tensor([[[0.5, 0.5]], [[0.5, 0.5]]])
    assert kernels.bald(same).item() == pytest.approx(0.0, abs=1e-7)
    assert kernels.mean_std(same).item() == 0.0


def test_grad_norms_of_a_linear_model_by_hand():
    """z = W x + b: dH/dW = dH/dz x^T, dH/db = dH/dz, so the sum of the two tensor norms is
    ||dH/dz|| (||x|| + 1), with dH/dz_c = -p_c (log p_c + H)."""
    torch.manual_seed(0)
    x = torch.randn(6, 3, dtype=torch.float64)
    params = {"w": torch.randn(4, 3, dtype=torch.float64), "b": torch.randn(4, dtype=torch.float64)}

    def entropy(p, xi):
        return kernels.logit_entropy(p["w"] @ xi + p["b"])

    probs = torch.softmax(x @ params["w"].T + params["b"], 1)
    logp = probs.log()
    dz = -probs * (logp - (probs * logp).sum(1, keepdim=True))
    expected = dz.norm(dim=1) * (x.norm(dim=1) + 1)
    assert torch.allclose(kernels.grad_norms(entropy, params, x, chunk_size=4), expected)
