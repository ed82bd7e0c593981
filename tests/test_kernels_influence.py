"""RALIF influence kernel against brute force: autograd Hessian, explicit head update."""

import pytest
import torch

from deepal_bench import kernels
from deepal_bench.kernels.influence import class_weights, head_hessian, influence_losses


def _problem(seed: int = 0, c: int = 3, d: int = 2):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(c, d, generator=g, dtype=torch.float64)
    b = torch.randn(c, generator=g, dtype=torch.float64)
    lab = torch.randn(6, d, generator=g, dtype=torch.float64)
    cand = torch.randn(4, d, generator=g, dtype=torch.float64)
    ref = torch.randn(5, d, generator=g, dtype=torch.float64)
    probs = lambda x: torch.softmax(x @ w.T + b, 1)  # noqa: E731
    return w, b, lab, cand, ref, probs


def _flat_ce(theta: torch.Tensor, x: torch.Tensor, y: torch.Tensor, c: int) -> torch.Tensor:
    wt = theta.reshape(c, -1)
    logits = x @ wt[:, :-1].T + wt[:, -1]
    return torch.nn.functional.cross_entropy(logits, y)


def test_head_hessian_equals_autograd_hessian_plus_damping():
    w, b, lab, _, _, probs = _problem()
    theta = torch.cat([w, b[:, None]], 1).flatten()
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    auto = torch.autograd.functional.hessian(lambda t: _flat_ce(t, lab, y, 3), theta)
    ours = head_hessian(probs(lab), lab, damping=0.1)
    assert torch.allclose(ours, auto + 0.1 * torch.eye(9), atol=1e-10)


def test_influence_losses_equal_the_loss_at_the_explicitly_moved_head():
    w, b, lab, cand, ref, probs = _problem()
    m, damping = len(lab), 0.05
    theta = torch.cat([w, b[:, None]], 1).flatten()
    hess = head_hessian(probs(lab), lab, damping)
    ref_y = probs(ref).argmax(1)
    got = influence_losses(probs(cand), cand, probs(ref), ref, probs(lab), lab, damping)
    for s in range(len(cand)):
        for k in range(3):
            x, y = cand[s : s + 1], torch.tensor([k])
            grad = torch.autograd.functional.jacobian(
                lambda t, x=x, y=y: _flat_ce(t, x, y, 3), theta
            )
            moved = theta - torch.linalg.solve(hess, grad) / m  # eq. 6, weight 1/m
            expected = _flat_ce(moved, ref, ref_y, 3)
            assert got[s, k].item() == pytest.approx(expected.item(), abs=1e-5)


def test_truncated_il_excludes_classes_below_tau():
    p = torch.tensor([[0.5, 0.3, 0.2], [0.9, 0.06, 0.04]])
    expected = torch.tensor([[0.5, 0.3, 0.0], [0.9, 0.0, 0.0]])
    assert torch.allclose(class_weights(p, "truncated", 0.25), expected)
    assert class_weights(p, "single", 0.25).tolist() == [[1, 0, 0], [1, 0, 0]]
    assert torch.equal(class_weights(p, "expectation", 0.25), p)


def test_ralif_scores_weight_the_per_class_losses_by_variant():
    _, _, lab, cand, ref, probs = _problem(1)
    pc = probs(cand)
    losses = influence_losses(pc, cand, probs(ref), ref, probs(lab), lab, 0.01)
    for variant, tau in (("single", None), ("expectation", None), ("truncated", 0.3)):
        got = kernels.ralif_scores(
            pc, cand, probs(ref), ref, probs(lab), lab, variant=variant, tau=tau
        )
        w = class_weights(pc.float(), variant, 4 / 3 if tau is None else tau)
        expected = (w * losses).sum(1).float()
        if variant == "truncated":  # the mean over the kept classes (authors' code)
            expected = expected / (w > 0).sum(1)
        assert torch.allclose(got, expected, atol=1e-6)


def _ten_class_candidates() -> torch.Tensor:
    """K = 10, tau = 4/K = 0.4: row 0 keeps classes 0 and 1, row 1 keeps class 0, rows 2
    (flat) and 3 (0.3, 0.3, 0.05 ...) keep no class."""
    rows = [[0.45, 0.41] + [0.0175] * 8, [0.9] + [0.1 / 9] * 9, [0.1] * 10, [0.3, 0.3] + [0.05] * 8]
    return torch.tensor(rows, dtype=torch.float64)


def test_truncated_il_averages_kept_classes_and_scores_nan_without_any():
    _, _, lab, cand, ref, probs = _problem(3, c=10, d=2)
    pc = _ten_class_candidates()
    losses = influence_losses(pc, cand, probs(ref), ref, probs(lab), lab, 0.01)
    args = (pc, cand, probs(ref), ref, probs(lab), lab)
    mean = kernels.ralif_scores(*args, variant="truncated")
    assert mean[0].item() == pytest.approx((0.45 * losses[0, 0] + 0.41 * losses[0, 1]).item() / 2)
    assert mean[1].item() == pytest.approx(0.9 * losses[1, 0].item())
    assert torch.isnan(mean[2:]).all()
    summed = kernels.ralif_scores(*args, variant="truncated", truncated_reduce="sum")
    assert summed[0].item() == pytest.approx((0.45 * losses[0, 0] + 0.41 * losses[0, 1]).item())
    assert torch.isnan(summed[2:]).all()  # eq. 9's empty sum would be 0, the best score
    assert torch.sort(mean, stable=True).indices.tolist()[2:] == [2, 3]  # NaN sorts last


def test_expectation_il_is_not_degenerate():
    # To first order sum_k p_k (p - e_k) = 0, so a linearised loss would give every
    # candidate the same expected-IL score; the loss at the moved head does not.
    _, _, lab, cand, ref, probs = _problem(2)
    scores = kernels.ralif_scores(
        probs(cand), cand, probs(ref), ref, probs(lab), lab, variant="expectation"
    )
    assert scores.max() - scores.min() > 1e-4
