"""Deterministic PCA for reducing embeddings before distance-based selection (DeepAL+
App. D.2: KCenter on PCA-32 features)."""

import torch


def pca_project(x: torch.Tensor, dim: int, *others: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Project `x` (and `others`, with x's mean and axes) onto x's top `dim` principal axes.

    Uses the eigendecomposition of the D x D covariance (no N x N matrix); axis signs are
    fixed so the result is deterministic. Returns x unchanged when dim >= D.
    """
    if dim >= x.shape[1]:
        return (x, *others)
    x64 = x.double()
    mean = x64.mean(0, keepdim=True)
    centred = x64 - mean
    _, vecs = torch.linalg.eigh(centred.T @ centred)
    axes = vecs[:, -dim:].flip(1)
    signs = torch.sign(axes[axes.abs().argmax(0), torch.arange(dim)])
    axes = axes * torch.where(signs == 0, torch.ones_like(signs), signs)

    def project(t: torch.Tensor) -> torch.Tensor:
        return ((t.double() - mean.to(t.device)) @ axes.to(t.device)).to(x.dtype)

    return (project(x), *(project(t) for t in others))
