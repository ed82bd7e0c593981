"""Uncertainty sampling (DeepAL+ survey §2.1.1): score = a kernel of the predictive
distribution, single pass or MC dropout (Gal et al. 2017, `mc_passes` forward passes), and
the gradient-norm score of Wang et al. 2022."""

from collections.abc import Callable
from typing import Literal

import torch

from deepal_bench import kernels
from deepal_bench.strategies.base import (
    MC_DROPOUT,
    PROBS,
    QueryContext,
    ScoreStrategy,
)
from deepal_bench.strategies.registry import register
from deepal_bench.training.acquisition import DifferentiableScore, ScoreInput
from deepal_bench.training.inference import eval_mode
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
    """GradNorm (Wang et al. 2022, as run in RALIF §5: "their entropy as loss for
    backpropagation"): the prediction entropy of each candidate, alone, backpropagated
    through the whole network in eval mode; score = the sum of the gradient norms of the
    trainable parameter tensors (`kernels.grad_norms`, as the reference xulabs/aitom
    al_gradnorm main.py get_uncertainty / compute_gradnorm with SCHEME 1). Per-sample
    gradients by `torch.func.vmap`, `chunk_size` candidates at a time."""

    def __init__(self, chunk_size: PositiveInt = 32) -> None:
        self.chunk_size = chunk_size

    def scores(self, ctx: QueryContext) -> torch.Tensor:
        model = ctx.model
        params = {k: p.detach() for k, p in model.named_parameters() if p.requires_grad}
        buffers = dict(model.named_buffers())

        def entropy(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
            logits = torch.func.functional_call(model, (p, buffers), (x.unsqueeze(0),))
            return kernels.logit_entropy(logits.float())

        out = torch.empty(len(ctx.candidates), device=ctx.device)
        with eval_mode(model), torch.enable_grad():
            for rows, x in ctx.input_batches(ctx.candidates, "grad_norm"):
                out[rows] = kernels.grad_norms(entropy, params, x, self.chunk_size)
        return out
