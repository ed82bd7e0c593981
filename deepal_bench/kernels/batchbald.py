"""BatchBALD (Kirsch et al. 2019, eqs. 8-12) with memory bounded by chunking and sampling.

The batch acquisition a(x_1..x_b) = H(y_1..y_b) - sum_i E_w H(y_i | w) is grown greedily.
The joint predictive of the chosen points is kept as per-MC-sample probabilities of label
configurations, K x M: exact (M = C^b) while C^b <= `max_configs`, afterwards
`max_configs` configurations drawn from the joint, with the joint entropy estimated by
importance weighting (Kirsch et al. §3.2). Candidates are scored in chunks, so the largest
tensor is chunk x M x C, never N x C^b.
"""

import torch

_EPS = 1e-12


def _cond_entropy(mc_probs: torch.Tensor) -> torch.Tensor:
    """E_w H(y | w) per point, from K x N x C MC probabilities."""
    return -(mc_probs * torch.log(mc_probs.clamp_min(_EPS))).sum(-1).mean(0)


def _joint_entropy(
    configs: torch.Tensor,
    mc_probs: torch.Tensor,
    weights: torch.Tensor | None,
    draws: int,
    chunk: int,
) -> torch.Tensor:
    """H(y_chosen, y_i) for every candidate i. configs: K x M; mc_probs: K x N x C.

    Exact when `weights` is None. Otherwise the columns descend from `draws` sampled
    configurations and `weights` holds, per column, the probability q of its sampled
    ancestor: H ~ -1/S sum_columns sum_c p(m, c) / q(m) log p(m, c).
    """
    k = len(configs)
    out = torch.empty(mc_probs.shape[1], dtype=configs.dtype, device=configs.device)
    for start in range(0, mc_probs.shape[1], chunk):
        p = mc_probs[:, start : start + chunk].to(configs.dtype)
        joint = torch.einsum("km,knc->nmc", configs, p) / k
        plogp = (joint * torch.log(joint.clamp_min(_EPS))).sum(2)
        if weights is None:
            out[start : start + chunk] = -plogp.sum(1)
        else:
            out[start : start + chunk] = -(plogp / weights).sum(1) / draws
    return out


def batchbald(
    mc_probs: torch.Tensor,
    n: int,
    generator: torch.Generator,
    max_configs: int = 1000,
    chunk: int = 256,
) -> torch.Tensor:
    """`n` distinct positions chosen greedily by BatchBALD from K x N x C MC probabilities."""
    mc = mc_probs.double()
    passes, size, n_classes = mc.shape
    n = min(n, size)
    cond = _cond_entropy(mc)
    configs = torch.ones(passes, 1, dtype=mc.dtype, device=mc.device)
    weights: torch.Tensor | None = None
    chosen: list[int] = []
    taken = torch.zeros(size, dtype=torch.bool, device=mc.device)
    cond_sum = mc.new_zeros(())
    for _ in range(n):
        joint = _joint_entropy(configs, mc, weights, max_configs, chunk)
        score = joint - cond_sum - cond
        idx = int(torch.argmax(score.masked_fill(taken, -float("inf"))))
        chosen.append(idx)
        taken[idx] = True
        cond_sum = cond_sum + cond[idx]
        configs = (configs[:, :, None] * mc[:, idx][:, None, :]).reshape(passes, -1)
        if weights is not None:
            weights = weights.repeat_interleave(n_classes)
        if configs.shape[1] > max_configs:
            target = configs.mean(0)
            proposal = target if weights is None else target / weights
            draw = torch.multinomial(
                proposal.cpu().float(), max_configs, replacement=True, generator=generator
            ).to(mc.device)
            configs = configs[:, draw]
            weights = configs.mean(0)
    return torch.tensor(chosen, dtype=torch.long, device=mc_probs.device)
