"""FALCUN (FALCUN paper, §2) and the baselines it is compared with (§3-4): CDAL, CLUE and
ALFA-Mix."""

import math

import torch

from deepal_bench import kernels
from deepal_bench.errors import ConfigError
from deepal_bench.strategies.base import (
    EMBEDDINGS,
    HEAD,
    LABELED,
    PROBS,
    BatchStrategy,
    QueryContext,
)
from deepal_bench.strategies.registry import register


@register("falcun")
class Falcun(BatchStrategy):
    """FALCUN: relevance r = u + d in probability space, sampled proportional to r^gamma
    (eqs. 1-6, gamma = 10); `gamma: det` takes the argmax. `uncertainty` / `diversity`
    switch the terms off for the Table 3 ablation."""

    needs = frozenset({PROBS})

    def __init__(
        self, gamma: float | str = 10.0, uncertainty: bool = True, diversity: bool = True
    ) -> None:
        if gamma != "det" and not (isinstance(gamma, int | float) and gamma >= 0):
            raise ConfigError(
                f"strategy.gamma must be a number >= 0 or 'det' (deterministic), not {gamma!r}."
            )
        if not (uncertainty or diversity):
            raise ConfigError(
                "strategy 'falcun' needs strategy.uncertainty or strategy.diversity (or both)."
            )
        self.gamma = gamma if gamma == "det" else float(gamma)
        self.uncertainty, self.diversity = uncertainty, diversity

    def select(self, ctx: QueryContext, n: int) -> torch.Tensor:
        return kernels.falcun(
            ctx.probs(),
            n,
            self.gamma,
            ctx.generator,
            uncertainty=self.uncertainty,
            diversity=self.diversity,
        )


@register("cdal")
class CDAL(BatchStrategy):
    """CDAL (Agarwal et al. 2020) as FALCUN runs it: greedy k-center on the softmax outputs,
    farthest from the labeled points' outputs (O(N_l N_u C + Q N_u C), FALCUN Table 1)."""

    needs = frozenset({PROBS, LABELED})

    def select(self, ctx: QueryContext, n: int) -> torch.Tensor:
        return kernels.kcenter_greedy(ctx.probs(), ctx.labeled_probs(), n)


@register("clue")
class CLUE(BatchStrategy):
    """CLUE (Prabhu et al. 2021): k-means with n clusters on the embeddings, each point
    weighted by its predictive entropy; the point nearest each centroid is queried."""

    needs = frozenset({PROBS, EMBEDDINGS})

    def select(self, ctx: QueryContext, n: int) -> torch.Tensor:
        weights = kernels.entropy(ctx.probs()).clamp_min(1e-12)
        return kernels.kmeans_select(ctx.embeddings(), n, ctx.generator, weights=weights)


@register("alfamix")
class AlfaMix(BatchStrategy):
    """ALFA-Mix (Parvaneh et al. 2022): candidates whose prediction flips when mixed with a
    labeled class anchor (closed-form alpha, cap `alpha_cap`); k-means with n clusters on the
    L2-normalised candidate embeddings, nearest candidate per centroid; too few candidates
    are topped up uniformly at random."""

    needs = frozenset({PROBS, EMBEDDINGS, LABELED, HEAD})

    def __init__(self, alpha_cap: float = 0.2) -> None:
        if not (alpha_cap > 0 and math.isfinite(alpha_cap)):
            raise ConfigError(f"strategy.alpha_cap must be a positive number, not {alpha_cap}.")
        self.alpha_cap = alpha_cap

    def select(self, ctx: QueryContext, n: int) -> torch.Tensor:
        emb = ctx.embeddings()
        weight, bias = ctx.head()
        flips = kernels.alfamix_candidates(
            emb,
            ctx.probs(),
            ctx.labeled_embeddings(),
            ctx.labeled_labels(),
            weight,
            bias,
            self.alpha_cap,
        )
        cand = torch.nonzero(flips.cpu()).flatten()
        if len(cand) <= n:
            rest = torch.nonzero(~flips.cpu()).flatten()
            fill = rest[torch.randperm(len(rest), generator=ctx.generator)[: n - len(cand)]]
            return torch.cat([cand, fill])
        unit = torch.nn.functional.normalize(emb[cand.to(emb.device)].float(), dim=1)
        return cand[kernels.kmeans_select(unit, n, ctx.generator).cpu()]
