"""RALIF (RALIF paper §4.2, eqs. 6-10): expected pseudo-label loss after an influence step.

Parameters are the classifier head theta = (W, b) (C x (D+1), last layer), as in Koh &
Liang's last-layer influence functions. For softmax cross-entropy the exact Hessian over
the labeled set is H = 1/m sum_i (diag(p_i) - p_i p_i^T) ⊗ h~_i h~_i^T (h~ = [h, 1]); we add
`damping` * I and invert it once (Cholesky, float64). Adding a candidate x_s with label k
moves the head by IL = -1/m H^-1 g_s^k (eq. 6, weight 1/m_c), where g_s^k = (p_s - e_k) ⊗ h~_s
is its loss gradient. The pseudo-labeled loss on the reference points is then evaluated
exactly at the moved head (eq. 5: y~_i = argmax p_i), for every (candidate, class) pair with
a non-zero weight, batched over chunks of pairs (two matmuls per chunk; memory chunk x C D~
and chunk x r x C, never N x N).
"""

from typing import Literal, get_args

import torch

from deepal_bench.kernels.gradients import with_bias

Variant = Literal["single", "expectation", "truncated"]
TruncatedReduce = Literal["mean", "sum"]
VARIANTS = get_args(Variant)
TRUNCATED_REDUCE = get_args(TruncatedReduce)


def head_hessian(probs: torch.Tensor, emb: torch.Tensor, damping: float) -> torch.Tensor:
    """Exact damped Hessian of the mean CE over the head (W, b), (C D~) x (C D~), float64.

    Index (c, d) <-> W~[c, d]; H = 1/m sum_i S_i ⊗ h~_i h~_i^T + damping I with
    S_i = diag(p_i) - p_i p_i^T (independent of the labels).
    """
    p = probs.double()
    h = with_bias(emb.double())
    m, c = p.shape
    d = h.shape[1]
    g = (p[:, :, None] * h[:, None, :]).reshape(m, c * d)
    hess = -(g.T @ g)
    for k in range(c):
        block = (h * p[:, k : k + 1]).T @ h
        hess[k * d : (k + 1) * d, k * d : (k + 1) * d] += block
    hess /= m
    hess.diagonal().add_(damping)
    return hess


def class_weights(probs: torch.Tensor, variant: str, tau: float) -> torch.Tensor:
    """Weights over hypothetical labels k: single-IL one-hot argmax (eq. 7), expectation-IL
    p_k (eq. 8), truncated-IL p_k [p_k > tau] (eqs. 9-10, not renormalised)."""
    if variant == "single":
        return torch.nn.functional.one_hot(probs.argmax(1), probs.shape[1]).to(probs.dtype)
    if variant == "expectation":
        return probs.clone()
    if variant == "truncated":
        return probs * (probs > tau).to(probs.dtype)
    raise ValueError(f"unknown RALIF variant '{variant}', choose from {VARIANTS}")


def influence_losses(
    cand_probs: torch.Tensor,
    cand_emb: torch.Tensor,
    ref_probs: torch.Tensor,
    ref_emb: torch.Tensor,
    labeled_probs: torch.Tensor,
    labeled_emb: torch.Tensor,
    damping: float = 0.01,
    mask: torch.Tensor | None = None,
    chunk: int = 256,
) -> torch.Tensor:
    """L[s, k]: mean pseudo-label CE over the reference points after the influence step for
    candidate s labeled k; N x C. Only pairs where `mask` is True are computed (others 0).

    Per (s, k) pair: dW~ = -1/m H^-1 g_s^k (one row of G @ H^-1 for the stacked gradients G),
    then the reference logits move by dW~ h~_i. Cost (C D~)^2 + r C D~ per pair.
    """
    m = len(labeled_probs)
    n_classes = cand_probs.shape[1]
    dev = cand_probs.device
    factor = torch.linalg.cholesky(head_hessian(labeled_probs, labeled_emb, damping))
    q = torch.cholesky_inverse(factor).float().to(dev)
    del factor
    h_ref = with_bias(ref_emb.float())
    z_ref = torch.log(ref_probs.float().clamp_min(1e-30))
    y_ref = ref_probs.argmax(1)
    base = z_ref.gather(1, y_ref[:, None]).squeeze(1)
    h_cand = with_bias(cand_emb.float())
    p_cand = cand_probs.float()
    if mask is None:
        mask = torch.ones_like(p_cand, dtype=torch.bool)
    pairs = torch.nonzero(mask.to(dev))
    out = torch.zeros(len(p_cand), n_classes, device=dev)
    for start in range(0, len(pairs), chunk):
        s, k = pairs[start : start + chunk].unbind(1)
        a = p_cand[s].clone()
        a[torch.arange(len(s), device=dev), k] -= 1.0
        grads = (a[:, :, None] * h_cand[s][:, None, :]).reshape(len(s), -1)
        step = (grads @ q).reshape(len(s), n_classes, -1) / -m
        shift = torch.matmul(h_ref, step.transpose(1, 2))  # pairs x r x C
        picked = shift.gather(2, y_ref.view(1, -1, 1).expand(len(s), -1, 1)).squeeze(2)
        loss = torch.logsumexp(shift + z_ref, 2) - picked - base
        out[s, k] = loss.mean(1)
    return out


def ralif_scores(
    cand_probs: torch.Tensor,
    cand_emb: torch.Tensor,
    ref_probs: torch.Tensor,
    ref_emb: torch.Tensor,
    labeled_probs: torch.Tensor,
    labeled_emb: torch.Tensor,
    variant: str = "truncated",
    tau: float | None = None,
    damping: float = 0.01,
    chunk: int = 256,
    truncated_reduce: str = "mean",
) -> torch.Tensor:
    """Expected unlabeled loss per candidate (eqs. 7-9); lower = more useful. tau = 4/K.

    single-IL and expectation-IL sum w_k L_k over the classes (eqs. 7-8). truncated-IL
    combines p_k L_k over the kept classes (p_k > tau) by `truncated_reduce`: `mean`
    (default) as the authors' code does (mx41-m/Active-Learning, al_strategies.py:
    `torch.mean(p[kept] * infl[kept])`), or `sum` as eq. 9 is printed. A candidate with no
    kept class has no estimate: its score is NaN, which sorts after every number (the
    reference's mean of an empty set is NaN too; eq. 9's empty sum would be 0, the best
    score, and such points would fill the candidate pool first).
    """
    if truncated_reduce not in TRUNCATED_REDUCE:
        raise ValueError(
            f"unknown truncated_reduce '{truncated_reduce}', choose from {TRUNCATED_REDUCE}"
        )
    tau = 4.0 / cand_probs.shape[1] if tau is None else tau
    weights = class_weights(cand_probs.float(), variant, tau)
    kept = weights > 0
    losses = influence_losses(
        cand_probs, cand_emb, ref_probs, ref_emb, labeled_probs, labeled_emb, damping,
        mask=kept, chunk=chunk,
    )  # fmt: skip
    total = (weights * losses).sum(1)
    if variant != "truncated":
        return total
    count = kept.sum(1)
    if truncated_reduce == "mean":
        total = total / count.clamp_min(1)
    return total.masked_fill(count == 0, float("nan"))
