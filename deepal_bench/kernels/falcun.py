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
    normalised over the pool (eq. 4); r = u + d (eq. 5). The next point is drawn with
    probability proportional to r^gamma (eq. 6, gamma = 10 in the paper); `gamma="det"`
    (or inf) takes the argmax instead. `uncertainty=False` / `diversity=False` drop a term
    (Table 3 ablation). O(n N C) time, O(N) extra memory.
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
        _relevance(u, d_raw, uncertainty, diversity, out=r)
        if deterministic:
            idx = int(torch.argmax(r.masked_fill_(taken, -1.0)))
        else:
            r.masked_fill_(taken, 0.0)
            top = r.max()
            w = r.div_(torch.where(top > 0, top, torch.ones_like(top))).pow_(power)
            w.masked_fill_(taken, 0.0)  # 0^0 = 1 when gamma = 0
            idx = sample_proportional(w, generator, exclude=torch.tensor(chosen, dtype=torch.long))
        chosen.append(idx)
        taken[idx] = True
        if diversity:
            dist = torch.cdist(probs, probs[idx : idx + 1], p=1.0).squeeze(1)
            torch.minimum(d_raw, dist, out=d_raw)
    return torch.tensor(chosen, dtype=torch.long, device=probs.device)


def _relevance(
    u: torch.Tensor, d_raw: torch.Tensor, uncertainty: bool, diversity: bool, out: torch.Tensor
) -> None:
    """r = u + min-max normalised d' (eqs. 4-5), or one of the two terms, into `out`."""
    if not diversity:
        out.copy_(u)
        return
    lo, hi = torch.aminmax(d_raw)
    scale = torch.where(hi > lo, 1.0 / (hi - lo), torch.zeros_like(hi))
    torch.sub(d_raw, lo, out=out).mul_(scale)
    if uncertainty:
        out.add_(u)
