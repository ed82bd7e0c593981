"""Batched adversarial kernels for adversarial active learning (Ducoffe & Precioso 2018, DFAL).

Each kernel is a pure function of a differentiable `logits_fn` (inputs -> logits, applied
to a whole batch; evaluation mode so that samples do not interact), the inputs and the
attack parameters. All points of a batch are attacked together on the inputs' device; a
point stops moving once its predicted label has changed. Results give, per point, the
perturbation, its L2 norm, whether the label flipped, the iterations used and the final
logit margin (original class minus best other class, <= 0 once flipped).
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from deepal_bench.kernels.numeric import EPS

LogitsFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class AdversarialResult:
    perturbation: torch.Tensor
    norm: torch.Tensor
    flipped: torch.Tensor
    iterations: torch.Tensor
    margin: torch.Tensor


def _margin(logits: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    own = logits.gather(1, label[:, None]).squeeze(1)
    other = logits.scatter(1, label[:, None], float("-inf")).max(1).values
    return own - other


def _result(
    logits_fn: LogitsFn, x: torch.Tensor, r: torch.Tensor, label, iters
) -> AdversarialResult:
    with torch.no_grad():
        logits = logits_fn(x + r)
    return AdversarialResult(
        perturbation=r,
        norm=r.flatten(1).norm(dim=1),
        flipped=logits.argmax(1) != label,
        iterations=iters,
        margin=_margin(logits, label),
    )


def bim(
    logits_fn: LogitsFn,
    x: torch.Tensor,
    step: float = 0.05,
    max_iter: int = 50,
    eps_ball: float | None = None,
    clip: tuple[torch.Tensor | float, torch.Tensor | float] | None = None,
) -> AdversarialResult:
    """Basic Iterative Method (Kurakin et al. 2017): x' <- Clip(x' + step * sign(grad CE)).

    Steps ascend the cross-entropy of the originally predicted label until that label
    changes, at most `max_iter` steps per point; the perturbation is projected onto the
    L-inf ball of radius `eps_ball` (none: unbounded, as in DeepAL+) and the perturbed input
    clipped to `clip` = (low, high) (the valid pixel range; none for tabular inputs).
    """
    with torch.no_grad():
        label = logits_fn(x).argmax(1)
    r = torch.zeros_like(x)
    iters = torch.zeros(len(x), dtype=torch.long, device=x.device)
    active = torch.ones(len(x), dtype=torch.bool, device=x.device)
    for _ in range(max_iter):
        idx = active.nonzero().flatten()
        if len(idx) == 0:
            break
        xa = (x[idx] + r[idx]).requires_grad_(True)
        loss = F.cross_entropy(logits_fn(xa), label[idx], reduction="sum")
        (grad,) = torch.autograd.grad(loss, xa)
        ri = r[idx] + step * grad.sign()
        if eps_ball is not None:
            ri = ri.clamp(-eps_ball, eps_ball)
        if clip is not None:
            ri = torch.clamp(x[idx] + ri, clip[0], clip[1]) - x[idx]
        r[idx] = ri
        iters[idx] += 1
        with torch.no_grad():
            still = logits_fn(x[idx] + ri).argmax(1) == label[idx]
        active[idx] = still
    return _result(logits_fn, x, r, label, iters)


def deepfool(
    logits_fn: LogitsFn, x: torch.Tensor, max_iter: int = 50, overshoot: float = 0.02
) -> AdversarialResult:
    """DeepFool (Moosavi-Dezfooli et al. 2016, Algorithm 2), multi-class, batched.

    At x_i, with k0 the original label, w_k = grad f_k - grad f_k0 and f'_k = f_k - f_k0,
    the step goes toward the closest linearised boundary l = argmin_k |f'_k| / ||w_k||
    (kept as a running minimum over k, so memory stays O(batch x input)):
    r_i = (|f'_l| + 1e-4) / ||w_l||^2 * w_l, accumulated in r; x_{i+1} = x + (1 + overshoot) r
    (reference implementation), until the label changes or `max_iter` iterations.
    """
    with torch.no_grad():
        logits = logits_fn(x)
    label = logits.argmax(1)
    n_classes = logits.shape[1]
    r_tot = torch.zeros_like(x)
    iters = torch.zeros(len(x), dtype=torch.long, device=x.device)
    active = torch.ones(len(x), dtype=torch.bool, device=x.device)
    for _ in range(max_iter):
        idx = active.nonzero().flatten()
        if len(idx) == 0:
            break
        xa = (x[idx] + (1 + overshoot) * r_tot[idx]).requires_grad_(True)
        out = logits_fn(xa)
        k0 = label[idx]
        rows = torch.arange(len(idx), device=x.device)
        f = (out - out[rows, k0][:, None]).detach()
        (g0,) = torch.autograd.grad(out[rows, k0].sum(), xa, retain_graph=True)
        best_dist = torch.full((len(idx),), float("inf"), device=x.device)
        best_step = torch.zeros_like(xa).flatten(1)
        for k in range(n_classes):
            (gk,) = torch.autograd.grad(out[:, k].sum(), xa, retain_graph=k < n_classes - 1)
            w = (gk - g0).flatten(1)
            w_norm = w.norm(dim=1).clamp_min(EPS)
            dist = torch.where(k0 == k, float("inf"), f[:, k].abs() / w_norm)
            closer = dist < best_dist
            step = ((f[:, k].abs() + 1e-4) / w_norm**2)[:, None] * w
            best_dist = torch.where(closer, dist, best_dist)
            best_step = torch.where(closer[:, None], step, best_step)
        r_tot[idx] += best_step.view_as(xa)
        iters[idx] += 1
        with torch.no_grad():
            still = logits_fn(x[idx] + (1 + overshoot) * r_tot[idx]).argmax(1) == k0
        active[idx] = still
    return _result(logits_fn, x, (1 + overshoot) * r_tot, label, iters)


def adversarial_scores(result: AdversarialResult) -> torch.Tensor:
    """Informativeness from an attack (DFAL: smaller perturbation = closer to the boundary).

    Flipped points score -||r||; points the attack could not flip rank after all flipped
    ones (their true distance exceeds what was tried), ordered by their remaining logit
    margin, smaller first. Higher score = more informative.
    """
    worst = result.norm.max() if len(result.norm) else result.norm.new_tensor(0.0)
    unflipped = -(worst + 1.0 + result.margin.clamp_min(0))
    return torch.where(result.flipped, -result.norm, unflipped)
