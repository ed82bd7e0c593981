"""FALCUN (FALCUN paper, §2) and the baselines it is compared with (§3-4): CDAL, CLUE and
ALFA-Mix."""

from typing import Annotated, Literal

import torch

from deepal_bench import kernels
from deepal_bench.errors import ConfigError
from deepal_bench.kernels.alfamix import AlphaMode
from deepal_bench.strategies.base import (
    EMBEDDINGS,
    HEAD,
    LABELED,
    PROBS,
    BatchStrategy,
    QueryContext,
)
from deepal_bench.strategies.registry import register
from deepal_bench.typed import NonNegativeFloat, PositiveInt, Range


@register("falcun")
class Falcun(BatchStrategy):
    """FALCUN: relevance r = u + d in probability space, sampled proportional to r^gamma
    (eqs. 1-6, gamma = 10); `gamma: det` takes the argmax. `uncertainty` / `diversity`
    switch the terms off for the Table 3 ablation (d only: the raw d', as the authors'
    code; `kernels.falcun`)."""

    needs = frozenset({PROBS})

    def __init__(
        self,
        gamma: NonNegativeFloat | Literal["det"] = 10.0,
        uncertainty: bool = True,
        diversity: bool = True,
    ) -> None:
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
    weighted by its predictive entropy; the point nearest each centroid is queried. Best of
    `n_init` runs (the reference runs scikit-learn 0.22 `KMeans(n)`: 10 runs;
    virajprabhu/CLUE sample.py, requirements.txt)."""

    needs = frozenset({PROBS, EMBEDDINGS})

    def __init__(self, n_init: PositiveInt = 10) -> None:
        self.n_init = n_init

    def select(self, ctx: QueryContext, n: int) -> torch.Tensor:
        weights = kernels.entropy(ctx.probs()).clamp_min(1e-12)
        return kernels.kmeans_select(
            ctx.embeddings(), n, ctx.generator, weights=weights, n_init=self.n_init
        )


@register("alfamix")
class AlfaMix(BatchStrategy):
    """ALFA-Mix (Parvaneh et al. 2022), as the authors' code runs it
    (AminParvaneh/alpha_mix_active_learning, query_strategies/alpha_mix_sampling.py).

    Candidates are points whose prediction flips when mixed with a labeled class anchor
    (`kernels.alfamix_candidates`): the bound eps grows in steps of `alpha_cap` until more
    than n points flip. `alpha_mode: closed_form` (default; eq. 5, eps scaled by 1/sqrt(D),
    alpha not clamped; the README's closed-form command uses step 0.2) or `random` (alpha
    drawn from N(eps/2, (eps/2)^2) and clamped to [1e-8, eps], FALCUN's ALFA-Mix baseline
    with step 0.03125). Then k-means with min(n, #candidates) clusters on the L2-normalised
    candidate embeddings (best of `n_init` runs; the reference's scikit-learn 0.23 default
    is 10), nearest candidate per centroid; only when fewer than n candidates exist is the
    batch topped up uniformly at random from the other unlabeled points.
    """

    needs = frozenset({PROBS, EMBEDDINGS, LABELED, HEAD})

    def __init__(
        self,
        alpha_cap: Annotated[float, Range(gt=0, le=1)] = 0.2,
        alpha_mode: AlphaMode = "closed_form",
        n_init: PositiveInt = 10,
    ) -> None:
        self.alpha_cap, self.alpha_mode, self.n_init = alpha_cap, alpha_mode, n_init

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
            n,
            alpha_cap=self.alpha_cap,
            mode=self.alpha_mode,
            generator=ctx.generator,
        ).cpu()
        cand = torch.nonzero(flips).flatten()
        chosen = cand
        if len(cand) > n:
            unit = torch.nn.functional.normalize(emb[cand.to(emb.device)].float(), dim=1)
            chosen = cand[kernels.kmeans_select(unit, n, ctx.generator, n_init=self.n_init).cpu()]
        rest = torch.nonzero(~flips).flatten()
        fill = rest[torch.randperm(len(rest), generator=ctx.generator)[: n - len(chosen)]]
        return torch.cat([chosen, fill])
