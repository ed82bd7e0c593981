"""BatchBALD (Kirsch et al. 2019, eqs. 8-12) as batched matrix products, memory bounded by
chunking and sampling.

The batch acquisition a(x_1..x_b) = H(y_1..y_b) - sum_i E_w H(y_i | w) (eq. 8) is grown
greedily (eq. 12). With the chosen labels Y_S fixed, the candidate-dependent part of the joint
entropy is, by the chain rule, H(Y_S, y) - H(Y_S) = H(y | Y_S) = E_{y_S} H(p(y | y_S)), with
p(y | y_S) = sum_k r_k(y_S) p(y | w_k) and r(y_S) the posterior over the K MC samples given
the configuration y_S (eqs. 9-11). Each configuration is a row of a configurations x K
posterior matrix R; for all candidates at once, R @ P (P: K x N*C predictive probabilities)
gives every p(y | y_S), so one pick is one GEMM, one log and one weighted column sum.

Configurations: all C^b of them with their probabilities as weights while C^b <=
`max_configs` (exact), afterwards `max_configs` configurations sampled as in the reference
code (BlackHC/batchbald_redux): stratified per MC sample, about max_configs / K of them drawn
from each sample's own joint p(y_S | w_k) (a label per chosen point from p(y | w_k), extended
by one label per new pick), weighted 1 / (K * configurations of that sample). The estimate
of H(y | y_S) is then unbiased, with the reference's spread at equal `max_configs`; the
candidate-independent H(Y_S) is never needed for the argmax.

Precision: per-configuration log-likelihoods and posteriors are float64 (sums of up to
b logs; the posterior is their softmax, so no joint probability ever underflows). Candidates
are screened in float32 (the GEMM and the log dominate the cost; float32 error ~1e-6 nats) and
the `_SHORTLIST` best are rescored in float64, which picks the argmax. Probabilities are
floored at `EPS` and renormalised in float64. Largest tensor: configurations x chunk*C
(float32). On CPU, configurations whose posterior has collapsed onto one MC sample skip the
GEMM (see `_Screen`); large batches reach that state, and their picks then cost O(K N).
"""

import math

import torch

from deepal_bench.kernels.numeric import EPS

_SHORTLIST = 16
"""Candidates rescored in float64 after the float32 screen (the screen's error is ~1e-6)."""
_POSTERIOR_FLOOR = 1e-20
"""Posterior weights below this are zero in the float32 screen: their products with
probabilities >= EPS would be denormal floats (~100x slower on x86); the dropped mass, at most
K * 1e-20, is far below float32 resolution."""
_POINT_MASS = 1e-8
"""A posterior with all but this much mass on one MC sample counts as a point mass in the
float32 screen (entropy error < 1e-6 nats, below the screen's own; the float64 rescoring of the
shortlist never takes this shortcut)."""
_CHUNK_ENTRIES_CPU = 1 << 22
"""Entries of the configurations x chunk*C float32 buffer on CPU (16 MiB)."""
_CHUNK_ENTRIES_ACCELERATOR = 1 << 26
"""The same on CUDA and other accelerators (256 MiB): fewer, larger kernels."""


def batchbald(
    mc_probs: torch.Tensor,
    n: int,
    generator: torch.Generator,
    max_configs: int = 1000,
    chunk: int | None = None,
) -> torch.Tensor:
    """`n` distinct positions chosen greedily by BatchBALD from K x N x C MC probabilities.

    `max_configs` bounds the label configurations of the chosen points (exact while C^b is
    within it, sampled afterwards; at least one per MC sample). `chunk` is the number of
    candidates per GEMM (default: a buffer of 2^22 entries on CPU, 2^26 on accelerators).
    `generator` (CPU) draws the uniforms of the sampled configurations; the categorical
    draws themselves run on the device of `mc_probs`.
    """
    passes, size, classes = mc_probs.shape
    n = min(n, size)
    device = mc_probs.device
    chosen = torch.empty(n, dtype=torch.long, device=device)
    if n == 0:
        return chosen
    cond = _conditional_entropy(mc_probs)
    cond32 = cond.float()
    if chunk is None:
        budget = _CHUNK_ENTRIES_CPU if device.type == "cpu" else _CHUNK_ENTRIES_ACCELERATOR
        chunk = max(1, budget // (max(max_configs, classes, passes) * classes))
    taken = torch.zeros(size, dtype=torch.bool, device=device)
    configs = _Configurations(passes, device)
    screener = _Screen(mc_probs, max(max_configs, passes), chunk)
    for i in range(n):
        screen = screener.entropies(configs) - cond32
        screen.masked_fill_(taken, -math.inf)
        shortlist = torch.topk(screen, min(_SHORTLIST, size - i)).indices.sort().values
        exact = _entropy_given_configs_exact(configs, _point_probs(mc_probs, shortlist))
        pick = shortlist[torch.argmax(exact - cond[shortlist])].view(1)
        chosen[i : i + 1] = pick
        taken[pick] = True
        if i + 1 < n:
            configs.add(pick, mc_probs, chosen[: i + 1], classes, max_configs, generator)
    return chosen


def batch_conditional_entropy(
    mc_probs: torch.Tensor,
    chosen: torch.Tensor,
    generator: torch.Generator,
    max_configs: int = 1000,
    chunk: int = 256,
) -> torch.Tensor:
    """H(y_i | y_chosen) for every point i, float64, as `batchbald` estimates it.

    The chosen points' configurations are built in the given order exactly as during
    selection (all C^b while within `max_configs`, else stratified samples), so
    H(y_chosen, y_i) - H(y_chosen) is estimated without the candidate-independent term;
    BatchBALD's score of i is this minus E_w H(y_i | w).
    """
    passes, size, classes = mc_probs.shape
    configs = _Configurations(passes, mc_probs.device)
    chosen = chosen.to(mc_probs.device)
    for j in range(len(chosen)):
        configs.add(chosen[j : j + 1], mc_probs, chosen[: j + 1], classes, max_configs, generator)
    out = torch.empty(size, dtype=torch.float64, device=mc_probs.device)
    for start in range(0, size, chunk):
        idx = torch.arange(start, min(start + chunk, size), device=mc_probs.device)
        out[start : start + chunk] = _entropy_given_configs_exact(
            configs, _point_probs(mc_probs, idx)
        )
    return out


class _Configurations:
    """Label configurations of the chosen points: log p(y_S^m | w_k) (rows x K, float64)
    and each row's weight in the estimate of E_{y_S} f(y_S)."""

    def __init__(self, passes: int, device: torch.device) -> None:
        self.loglik = torch.zeros(1, passes, dtype=torch.float64, device=device)
        self.weight = torch.ones(1, dtype=torch.float64, device=device)
        self.strata: torch.Tensor | None = None

    def posterior(self) -> torch.Tensor:
        """r_mk = p(w_k | y_S^m): rows x K, float64."""
        return torch.softmax(self.loglik, 1)

    def add(
        self,
        pick: torch.Tensor,
        mc_probs: torch.Tensor,
        chosen: torch.Tensor,
        classes: int,
        max_configs: int,
        generator: torch.Generator,
    ) -> None:
        """Extend the configurations by the label of the new chosen point `pick`."""
        point_log = _point_probs(mc_probs, pick)[:, 0].log()  # K x C
        if self.strata is None and classes ** len(chosen) <= max_configs:
            passes = point_log.shape[0]
            self.loglik = (self.loglik[:, None, :] + point_log.T[None]).reshape(-1, passes)
            self.weight = torch.exp(torch.logsumexp(self.loglik, 1) - math.log(passes))
            return
        if self.strata is None:
            self._start_sampling(mc_probs, chosen, max_configs, generator)
            return
        self.loglik += _sampled_loglik(point_log, self.strata, generator)

    def _start_sampling(
        self,
        mc_probs: torch.Tensor,
        chosen: torch.Tensor,
        max_configs: int,
        generator: torch.Generator,
    ) -> None:
        """Draw the stratified configurations of all chosen points (in pick order)."""
        passes = mc_probs.shape[0]
        rows = max(max_configs, passes)
        counts = torch.full((passes,), rows // passes, dtype=torch.long)
        counts[: rows % passes] += 1
        device = self.loglik.device
        self.strata = torch.repeat_interleave(torch.arange(passes), counts).to(device)
        self.weight = (1.0 / (passes * counts.double())).to(device)[self.strata]
        self.loglik = torch.zeros(rows, passes, dtype=torch.float64, device=device)
        for j in range(len(chosen)):
            point_log = _point_probs(mc_probs, chosen[j : j + 1])[:, 0].log()
            self.loglik += _sampled_loglik(point_log, self.strata, generator)


def _sampled_loglik(
    point_log: torch.Tensor, strata: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """log p(y^m | w_k) for labels y^m ~ p(y | w_{strata[m]}) (rows x K).

    Inverse-CDF draws on the device of `point_log` from float64 uniforms of `generator`."""
    cdf = torch.cumsum(point_log.exp(), 1)[strata]  # rows x C
    u = torch.rand(len(strata), generator=generator, device=generator.device, dtype=torch.float64)
    u = u.to(cdf.device)
    labels = torch.searchsorted(cdf, (u * cdf[:, -1])[:, None], right=True)
    labels = labels.clamp_max_(cdf.shape[1] - 1)[:, 0]
    return point_log[:, labels].T


def _point_probs(mc_probs: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Float64 probabilities of the points `idx`: K x len(idx) x C."""
    return _float64_probs(mc_probs.index_select(1, idx))


def _float64_probs(probs: torch.Tensor) -> torch.Tensor:
    """`probs` in float64, floored at EPS and renormalised over classes (float32 inputs sum
    to 1 only within ~1e-7, and the chain rule H(Y_S, y) = H(Y_S) + H(y | Y_S) needs 1)."""
    p = probs.double().clamp_min(EPS)
    return p.div_(p.sum(-1, keepdim=True))


def _conditional_entropy(mc_probs: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """E_w H(y | w) per point in float64, from K x N x C MC probabilities (chunked)."""
    out = torch.empty(mc_probs.shape[1], dtype=torch.float64, device=mc_probs.device)
    for start in range(0, mc_probs.shape[1], chunk):
        p = _float64_probs(mc_probs[:, start : start + chunk])
        out[start : start + chunk] = -(p * p.log()).sum(-1).mean(0)
    return out


class _Screen:
    """float32 estimates of H(y_i | Y_S) = sum_m weight_m H(R_m @ P_i) for every point i.

    Per chunk of candidates: X = R @ P (one GEMM), X log X in place, then the weighted sum
    over configurations (one matrix-vector product); X > 0 since P >= EPS and R's rows sum
    to 1. On CPU, configurations whose posterior is a point mass on one MC sample k (to
    `_POINT_MASS`) skip the GEMM: R_m @ P_i = P_ki, whose entropies are computed once, so
    they cost one K x N matrix-vector product together (large batches concentrate the
    posterior). On accelerators all rows go through the GEMM (no host sync for the split).
    """

    def __init__(self, mc_probs: torch.Tensor, rows: int, chunk: int) -> None:
        passes, size, classes = mc_probs.shape
        self.classes = classes
        self.flat = mc_probs.float().clamp_min(EPS).reshape(passes, size * classes)
        self.width = min(chunk, size) * classes
        self.xbuf = self.flat.new_empty(rows * self.width)
        self.lbuf = torch.empty_like(self.xbuf)
        self.acc = self.flat.new_empty(size * classes)
        self.split = mc_probs.device.type == "cpu"
        if self.split:
            plogp = self.flat * self.flat.log()
            self.sample_entropy = -plogp.view(passes, size, classes).sum(2).T.contiguous()

    def entropies(self, configs: _Configurations) -> torch.Tensor:
        post, weight = configs.posterior(), configs.weight
        out = None
        if self.split:
            top, sample = post.max(1)
            mass = top >= 1.0 - _POINT_MASS
            if bool(mass.any()):
                per_sample = torch.zeros(post.shape[1], dtype=weight.dtype)
                per_sample.index_add_(0, sample[mass], weight[mass])
                out = self.sample_entropy @ per_sample.float()
                post, weight = post[~mass], weight[~mass]
        if len(post) == 0:
            return out
        gemm = self._gemm_entropies(post, weight)
        return gemm if out is None else out.add_(gemm)

    def _gemm_entropies(self, post: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        post = torch.where(post >= _POSTERIOR_FLOOR, post, 0.0).float()
        weight = weight.float()
        for start in range(0, self.flat.shape[1], self.width):
            cols = self.flat[:, start : start + self.width]
            shape = (len(post), cols.shape[1])
            x = torch.mm(post, cols, out=self.xbuf[: shape[0] * shape[1]].view(shape))
            plogp = torch.log(x, out=self.lbuf[: x.numel()].view(shape)).mul_(x)
            torch.mv(plogp.T, weight, out=self.acc[start : start + cols.shape[1]])
        return -self.acc.view(-1, self.classes).sum(1)


def _entropy_given_configs_exact(configs: _Configurations, probs: torch.Tensor) -> torch.Tensor:
    """float64 `_Screen.entropies` for the points whose K x L x C `probs` are given."""
    passes, points, classes = probs.shape
    x = configs.posterior() @ probs.reshape(passes, points * classes)
    return -(configs.weight @ (x * x.log())).view(points, classes).sum(1)
