"""Gradients for scores: the head input [h, 1] of closed-form last-layer gradients
(z = W h + b), and GradNorm's per-sample gradient norms over a whole network."""

from collections.abc import Callable

import torch


def with_bias(emb: torch.Tensor) -> torch.Tensor:
    """h~ = [h, 1]: the head's input including the bias coordinate."""
    return torch.cat([emb, emb.new_ones(len(emb), 1)], dim=1)


def logit_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy H = -sum_c p_c log p_c of softmax(logits), summed over rows (a scalar loss)."""
    logp = torch.log_softmax(logits, dim=-1)
    return -(logp.exp() * logp).sum()


def grad_norms(
    loss: Callable[[dict[str, torch.Tensor], torch.Tensor], torch.Tensor],
    params: dict[str, torch.Tensor],
    x: torch.Tensor,
    chunk_size: int = 32,
) -> torch.Tensor:
    """GradNorm (Wang et al. 2022): sum over parameter tensors of ||d loss(params, x_i) /
    d tensor||_2, per row x_i of x.

    `loss(params, x_i)` is a scalar function of one input (the reference backpropagates the
    entropy of a batch of one; xulabs/aitom al_gradnorm main.py, compute_gradnorm: the norm
    of every parameter tensor's gradient, then their sum). Per-sample gradients come from
    `torch.func.vmap(grad(loss))`, `chunk_size` rows at a time (memory: chunk_size x the
    parameter count), and only their per-tensor norms are kept.
    """
    per_sample = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0))
    out = []
    for start in range(0, len(x), chunk_size):
        grads = per_sample(params, x[start : start + chunk_size])
        out.append(torch.stack([g.flatten(1).norm(dim=1) for g in grads.values()]).sum(0))
    return torch.cat(out) if out else x.new_empty(0)
