"""Stochastic batch selection kernels (Kirsch et al. 2021; DMLE paper §3.2 eq. 6, App. A).

Sampling k points without replacement from P(x) ∝ exp(w(x)) is the top-k of the log-weights
perturbed by i.i.d. standard Gumbel noise (the Gumbel-top-k trick). The selection kinds
differ only in the log-weights: softmax w = β·a, power w = β·ln a, soft-rank w = −β·ln r.
The log-probability of the drawn sequence factorises into per-draw terms
ln P(x_i | x_1..x_{i−1}) = w(x_i) − ln Σ_{x ∉ {x_1..x_{i−1}}} exp w(x) (App. A, Z_{t,i}).
"""

from collections.abc import Callable

import torch


def gumbel_topk(log_weights: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """Positions of k draws without replacement from softmax(log_weights), in draw order.

    The noise is drawn on the generator's device (CPU) and moved to the weights' device, so
    the same generator gives the same draw on every device.
    """
    k = min(k, len(log_weights))
    u = torch.rand(len(log_weights), generator=generator, dtype=torch.float64)
    tiny = torch.finfo(torch.float64).tiny
    noise = -torch.log(-torch.log(u.clamp(tiny, 1.0 - 1e-16)))
    perturbed = log_weights.double() + noise.to(log_weights.device)
    return torch.sort(perturbed, descending=True, stable=True).indices[:k]


def sequential_log_probs(log_weights: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """ln P(x_i | x_1..x_{i−1}) for each drawn position, sampling without replacement.

    The normaliser of draw i is the log-sum-exp over the points not drawn before it,
    computed as ln(Z − Σ_{j<i} exp w_j) in a numerically stable way.
    """
    w = log_weights.double()
    chosen = w[positions]
    total = torch.logsumexp(w, 0)
    removed = torch.cat([chosen.new_full((1,), float("-inf")), chosen[:-1]])
    before = torch.logcumsumexp(removed, 0)
    log_norm = total + torch.log1p(-torch.exp(before - total).clamp(max=1.0 - 1e-15))
    return (chosen - log_norm).to(log_weights.dtype)


def descending_ranks(scores: torch.Tensor) -> torch.Tensor:
    """1-based descending rank of every score (rank 1 = highest); ties by lower position."""
    order = torch.sort(scores, descending=True, stable=True).indices
    ranks = torch.empty_like(order)
    ranks[order] = torch.arange(1, len(scores) + 1, device=scores.device)
    return ranks


def soft_ranks(
    values: torch.Tensor,
    reference: torch.Tensor,
    include: Callable[[slice], torch.Tensor],
    temperature: float,
    chunk: int = 256,
) -> torch.Tensor:
    """Smooth descending rank of each value among the reference scores it is compared with.

    r̃_j = 1 + Σ_n include[j, n] · σ((reference_n − values_j) / temperature): every reference
    score above values_j adds (almost) one, every score below (almost) nothing, so r̃ tends
    to the hard rank as the temperature goes to 0 and is differentiable in `values` (and in
    `reference`). `include(rows)` returns the boolean mask of those rows (chunk x reference),
    so no len(values) x len(reference) matrix larger than one chunk is ever built.
    """
    out = []
    for start in range(0, len(values), chunk):
        rows = slice(start, start + chunk)
        diff = (reference[None, :] - values[rows, None]) / temperature
        out.append(1.0 + (torch.sigmoid(diff) * include(rows)).sum(1))
    return torch.cat(out) if out else values.new_zeros(0)


def suffix_log_normalisers(log_weights: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """For every point n, ln Σ_{m: keys_m >= keys_n} exp w_m (draw-order normalisers).

    With keys = the (round, draw) order in which points were selected (+inf for points never
    selected), this is ln Z_{τ,i} of DMLE App. A for each selected point: the log-sum-exp over
    the pool that was still available when it was drawn. Differentiable in `log_weights`.
    Points with equal keys share the normaliser over all of them.
    """
    order = torch.argsort(keys, descending=True, stable=True)
    suffix = torch.logcumsumexp(log_weights[order], 0)
    sorted_keys = keys[order]
    # For ties, take the value at the last occurrence of the key (covers all equal keys).
    last = len(keys) - 1 - torch.searchsorted(sorted_keys.flip(0).contiguous(), sorted_keys)
    out = torch.empty_like(suffix)
    out[order] = suffix[last]
    return out
