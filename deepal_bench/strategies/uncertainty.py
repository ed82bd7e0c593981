"""Uncertainty sampling (DeepAL+ survey §2.1.1): score = a kernel of the predictive
distribution, single pass or MC dropout (Gal et al. 2017, `mc_passes` forward passes), and
the gradient-norm score of Wang et al. 2022."""

from collections.abc import Callable
from typing import Literal

import torch

from deepal_bench import kernels
from deepal_bench.strategies.base import (
    EMBEDDINGS,
    HEAD,
    MC_DROPOUT,
    PROBS,
    QueryContext,
    ScoreStrategy,
)
from deepal_bench.strategies.registry import register
from deepal_bench.training.acquisition import DifferentiableScore, ScoreInput
from deepal_bench.typed import PositiveInt


class ProbScore(ScoreStrategy):
    """Score = kernel(probs) over the candidates' softmax outputs."""

    needs = frozenset({PROBS})
    kernel: Callable[[torch.Tensor], torch.Tensor]

    def scores(self, ctx: QueryContext) -> torch.Tensor:
        return type(self).kernel(ctx.probs())

    def differentiable_score(self) -> DifferentiableScore:
        return DifferentiableScore(self.name, ScoreInput.PROBS, type(self).kernel)


class MCScore(ScoreStrategy):
    """Score = kernel(mc_probs) over `mc_passes` MC-dropout passes (DeepAL+: 10)."""

    needs = frozenset({MC_DROPOUT})
    kernel: Callable[[torch.Tensor], torch.Tensor]

    def __init__(self, mc_passes: PositiveInt = 10) -> None:
        self.mc_passes = mc_passes

    def scores(self, ctx: QueryContext) -> torch.Tensor:
        return type(self).kernel(ctx.mc_probs(self.mc_passes))

    def differentiable_score(self) -> DifferentiableScore:
        return DifferentiableScore(
            self.name, ScoreInput.MC_PROBS, type(self).kernel, self.mc_passes
        )


@register("entropy")
class Entropy(ProbScore):
    kernel = staticmethod(kernels.entropy)


@register("margin")
class Margin(ProbScore):
    kernel = staticmethod(kernels.margin)


@register("least_confidence")
class LeastConfidence(ProbScore):
    kernel = staticmethod(kernels.least_confidence)


@register("var_ratio")
class VarRatio(ScoreStrategy):
    """Variation ratio, `variant` one_pass | freeman.

    `one_pass` (default) is DeepAL+'s VarRatio (survey §2.1.1; SineZHAN/deepALplus
    query_strategies/var_ratio.py): 1 - max_c p_c from the single eval-mode pass, which
    needs only probabilities and is differentiable (works with the DMLE estimator).
    `freeman` is Freeman's ratio over `mc_passes` MC-dropout passes (Gal et al. 2017 eq. 2):
    1 - mode count / passes, which takes only passes + 1 values (ties keep pool order).
    """

    needs = frozenset({PROBS})  # the default variant's; set per instance

    def __init__(
        self, variant: Literal["one_pass", "freeman"] = "one_pass", mc_passes: PositiveInt = 10
    ) -> None:
        self.variant, self.mc_passes = variant, mc_passes
        self.needs = frozenset({PROBS} if variant == "one_pass" else {MC_DROPOUT})

    def scores(self, ctx: QueryContext) -> torch.Tensor:
        if self.variant == "one_pass":
            return kernels.least_confidence(ctx.probs())
        return kernels.var_ratio(ctx.mc_probs(self.mc_passes))

    def differentiable_score(self) -> DifferentiableScore | None:
        """one_pass: 1 - max p of the eval-mode softmax. Freeman's ratio counts argmax votes,
        which have no gradient, so DMLE refuses it at start-up."""
        if self.variant == "one_pass":
            return DifferentiableScore(self.name, ScoreInput.PROBS, kernels.least_confidence)
        return None


@register("bald")
class BALD(MCScore):
    kernel = staticmethod(kernels.bald)


@register("least_confidence_dropout")
class LeastConfidenceDropout(MCScore):
    """DeepAL+ "LeastConfD": least confidence of the MC-averaged prediction."""

    kernel = staticmethod(kernels.least_confidence_dropout)


@register("margin_dropout")
class MarginDropout(MCScore):
    """DeepAL+ "MarginD": margin of the MC-averaged prediction."""

    kernel = staticmethod(kernels.margin_dropout)


@register("entropy_dropout")
class EntropyDropout(MCScore):
    """DeepAL+ "EntropyD": entropy of the MC-averaged prediction."""

    kernel = staticmethod(kernels.entropy_dropout)


@register("mean_std")
class MeanSTD(MCScore):
    """DeepAL+ "MeanSTD" (Kampffmeyer et al. 2016): mean over classes of the MC std."""

    kernel = staticmethod(kernels.mean_std)


@register("grad_norm")
class GradNorm(ScoreStrategy):
    """GradNorm (Wang et al. 2022, as run in RALIF §5): norm of the gradient of the
    prediction entropy w.r.t. the linear head, in closed form (`kernels.grad_norm`)."""

    needs = frozenset({PROBS, EMBEDDINGS, HEAD})

    def scores(self, ctx: QueryContext) -> torch.Tensor:
        return kernels.grad_norm(ctx.probs(), ctx.embeddings())
