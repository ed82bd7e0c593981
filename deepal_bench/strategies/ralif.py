"""RALIF (RALIF paper, Alg. 1-2): influence-function candidate pool, then diversity."""

import math
from typing import Annotated, Literal

import torch

from deepal_bench import kernels
from deepal_bench.errors import ConfigError
from deepal_bench.kernels.influence import TruncatedReduce, Variant
from deepal_bench.models.base import ALModel
from deepal_bench.selection import Selection
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


@register("ralif")
class RALIF(BatchStrategy):
    """Reliable AL via influence functions.

    1. Score every unlabeled point by the expected pseudo-labeled loss on the unlabeled set
       after an influence step on the head (`kernels.ralif_scores`, eqs. 7-10), `variant`
       single | expectation | truncated (tau = 4/K when null). truncated-IL averages
       p_k L_k over the kept classes (`truncated_reduce: mean`, the authors' code) or sums
       them (`sum`, eq. 9 as printed); a point with no class above tau scores NaN.
    2. Keep the `candidate_fraction` (10%) with the smallest expected loss (Alg. 1 l. 9);
       ties are broken by a permutation drawn from the query generator (as top-k does; by
       pool position they would fill the pool with its first points whenever the scores
       are flat), NaN scores sort last.
    3. Down-select the batch in the encoder's feature space by k-means++ seeding (default;
       Alg. 1 l. 10) or mean shift (App. A.4). As in the authors' code (`diverse_sample`,
       mx41-m/Active-Learning utils/utils.py), the first center is the best candidate and
       D^2 is the distance to the nearest labeled or chosen point; that code keeps only the
       last labeled point's distances (its `labeled_mu` list is never filled), here the
       nearest of all of them, as its loop intends.
    The unlabeled loss is averaged over `reference_size` seeded random unlabeled points
    (null = all of them); the head Hessian needs C (D+1) <= `max_hessian_dim`.
    """

    needs = frozenset({PROBS, EMBEDDINGS, LABELED, HEAD})

    def __init__(
        self,
        variant: Variant = "truncated",
        tau: Annotated[float, Range(ge=0, lt=1)] | None = None,
        candidate_fraction: Annotated[float, Range(gt=0, le=1)] = 0.1,
        diversity: Literal["kmeanspp", "meanshift"] = "kmeanspp",
        damping: NonNegativeFloat = 0.01,
        reference_size: PositiveInt | None = 2000,
        max_hessian_dim: PositiveInt = 20000,
        truncated_reduce: TruncatedReduce = "mean",
    ) -> None:
        self.variant, self.tau, self.diversity = variant, tau, diversity
        self.candidate_fraction, self.damping = candidate_fraction, damping
        self.reference_size, self.max_hessian_dim = reference_size, max_hessian_dim
        self.truncated_reduce = truncated_reduce

    def check(self, model: ALModel, selection: Selection) -> None:
        super().check(model, selection)
        dim = model.head.out_features * (model.head.in_features + 1)
        if dim > self.max_hessian_dim:
            raise ConfigError(
                f"strategy 'ralif' inverts the exact head Hessian of size {dim} x {dim} "
                f"(C x (D+1) parameters), above strategy.max_hessian_dim={self.max_hessian_dim}"
                f"; raise strategy.max_hessian_dim if {8 * dim * dim / 2**30:.1f} GiB fits."
            )
        tau = 4.0 / model.head.out_features if self.tau is None else self.tau
        if self.variant == "truncated" and tau >= 1.0:
            raise ConfigError(
                f"strategy 'ralif' with variant=truncated and tau={tau:.3g} (4/K for "
                f"K={model.head.out_features} classes when strategy.tau is null) excludes "
                f"every class; set strategy.tau below 1 or use variant=single|expectation."
            )

    def select(self, ctx: QueryContext, n: int) -> torch.Tensor:
        probs, emb = ctx.probs(), ctx.embeddings()
        size = len(probs)
        ref = torch.arange(size)
        if self.reference_size is not None and self.reference_size < size:
            ref = torch.randperm(size, generator=ctx.generator)[: self.reference_size]
        ref = ref.to(probs.device)
        scores = kernels.ralif_scores(
            probs,
            emb,
            probs[ref],
            emb[ref],
            ctx.labeled_probs(),
            ctx.labeled_embeddings(),
            variant=self.variant,
            tau=self.tau,
            damping=self.damping,
            truncated_reduce=self.truncated_reduce,
        )
        k = min(size, max(n, math.ceil(self.candidate_fraction * size)))
        pool = kernels.shuffled_argsort(scores, ctx.generator)[:k]
        if self.diversity == "meanshift":
            local = kernels.meanshift_select(emb[pool], n)
        else:
            labeled = ctx.labeled_embeddings()
            local = kernels.kmeanspp(emb[pool], n, ctx.generator, first=0, labeled=labeled)
        return pool[local.to(pool.device)]
