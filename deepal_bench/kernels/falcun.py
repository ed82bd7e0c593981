"""FALCUN (FALCUN paper, Alg. 1, eqs. 1-6): uncertainty + diversity in probability space."""

import math

import torch

from deepal_bench.kernels.sampling import sample_proportional


def falcun(
    probs: torch.Tensor,
    n: int,
    gamma: float | str,
    generator: torch.Generator,
    *,
    uncertainty: bool = True,
    diversity: bool = True,
) -> torch.Tensor:
    """`n` distinct positions chosen one at a time by relevance r = u + d.

    u(x) = 1 - (p[c1] - p[c2]) (eq. 1, static). The diversity d' starts at u (eq. 2) and
    after each pick x_q becomes min(d', ||p(x) - p(x_q)||_1) (eq. 3); d is d' min-max
    normalised over the remaining candidates (eq. 4); r = u + d (eq. 5). The next point is
    drawn with probability proportional to r^gamma (eq. 6, gamma = 10 in the paper), or
    uniformly while d' is 0 on every remaining candidate; `gamma="det"` (or inf) takes the
    argmax instead. `uncertainty=False` / `diversity=False` drop a term (Table 3 ablation):
    the d-only rows use the raw d' (r = d'), the u-only rows r = u. All of this follows the
    authors' code (sobermeier/falcun src/deepal/query_strategies/falcun.py, get_indices,
    lines 57-102: MinMaxScaler fitted on dists[candidate_mask]; custom_dist "distance" =
    dists ** gamma, "unc" = unc ** gamma; uniform choice when sum(dists[candidate_mask]) is
    0). O(n N C) time, O(N) extra memory.
    """
    if not (uncertainty or diversity):
        raise ValueError("falcun needs the uncertainty or the diversity term (or both)")
    deterministic = gamma == "det" or (isinstance(gamma, float) and math.isinf(gamma))
    if not deterministic:
        gamma = float(gamma)
        power = int(gamma) if gamma.is_integer() else gamma
    probs = probs.float().contiguous()
    size = len(probs)
    n = min(n, size)
    top2 = probs.topk(2, dim=1).values
    u = 1.0 - (top2[:, 0] - top2[:, 1])
    d_raw = u.clone()
    r = torch.empty_like(u)
    taken = torch.zeros(size, dtype=torch.bool, device=probs.device)
    chosen: list[int] = []
    for _ in range(n):
        _relevance(u, d_raw, taken, uncertainty, diversity, out=r)
        if deterministic:
            idx = int(torch.argmax(r.masked_fill_(taken, -math.inf)))
        else:
            r.masked_fill_(taken, 0.0)
            top = r.max()
            w = r.div_(torch.where(top > 0, top, torch.ones_like(top))).pow_(power)
            w.masked_fill_(taken, 0.0)  # 0^0 = 1 when gamma = 0
            w.mul_(d_raw.masked_fill(taken, 0.0).sum() > 0)  # all zero: uniform (sampler)
            idx = sample_proportional(w, generator, exclude=torch.tensor(chosen, dtype=torch.long))
        chosen.append(idx)
        taken[idx] = True
        dist = torch.cdist(probs, probs[idx : idx + 1], p=1.0).squeeze(1)
        torch.minimum(d_raw, dist, out=d_raw)
    return torch.tensor(chosen, dtype=torch.long, device=probs.device)


def _relevance(
    u: torch.Tensor,
    d_raw: torch.Tensor,
    taken: torch.Tensor,
    uncertainty: bool,
    diversity: bool,
    out: torch.Tensor,
) -> None:
    """r = u + d' min-max normalised over the points not `taken` (eqs. 4-5), or u alone, or
    the raw d' alone, into `out`."""
    if not diversity:
        out.copy_(u)
        return
    if not uncertainty:
        out.copy_(d_raw)
        return
    lo = d_raw.masked_fill(taken, math.inf).min()
    hi = d_raw.masked_fill(taken, -math.inf).max()
    scale = torch.where(hi > lo, 1.0 / (hi - lo), torch.zeros_like(hi))
    torch.sub(d_raw, lo, out=out).mul_(scale).add_(u)
