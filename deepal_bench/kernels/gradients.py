"""Closed-form last-layer gradients of a linear head z = W h + b (no per-sample backprop)."""

import torch

from deepal_bench.kernels.numeric import EPS


def with_bias(emb: torch.Tensor) -> torch.Tensor:
    """h~ = [h, 1]: the head's input including the bias coordinate."""
    return torch.cat([emb, emb.new_ones(len(emb), 1)], dim=1)


def grad_norm(probs: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
    """GradNorm (Wang et al. 2022, entropy loss): ||d H(p) / d(W, b)||_2 per point.

    With loss = entropy H = -sum_c p_c log p_c, dH/dz_c = -p_c (log p_c + H), and the
    gradient w.r.t. the head (W, b) is dH/dz ⊗ [h, 1], so its norm is ||dH/dz|| ||[h, 1]||.
    """
    probs = probs.double()
    logp = torch.log(probs.clamp_min(EPS))
    ent = -(probs * logp).sum(1, keepdim=True)
    dz = -probs * (logp + ent)
    return (dz.norm(dim=1) * with_bias(emb.double()).norm(dim=1)).to(emb.dtype)
