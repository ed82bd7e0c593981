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
    probs = probs.float()
    size = len(probs)
    n = min(n, size)
    top2 = probs.topk(2, dim=1).values
    u = 1.0 - (top2[:, 0] - top2[:, 1])
    d_raw = u.clone()
    taken = torch.zeros(size, dtype=torch.bool, device=probs.device)
    chosen: list[int] = []
    for _ in range(n):
        r = u.clone() if uncertainty else torch.zeros_like(u)
        if diversity:
            lo, hi = d_raw.min(), d_raw.max()
            if hi > lo:
                r += (d_raw - lo) / (hi - lo)
        if deterministic:
            idx = int(torch.argmax(r.masked_fill(taken, -1.0)))
        else:
            top = r.max()
            w = (r / top).pow(float(gamma)) if top > 0 else torch.zeros_like(r)
            w = w.masked_fill(taken, 0.0)
            idx = sample_proportional(w, generator, exclude=torch.tensor(chosen, dtype=torch.long))
        chosen.append(idx)
        taken[idx] = True
        if diversity:
            torch.minimum(d_raw, (probs - probs[idx]).abs().sum(1), out=d_raw)
    return torch.tensor(chosen, dtype=torch.long, device=probs.device)
