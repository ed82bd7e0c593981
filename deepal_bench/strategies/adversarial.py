"""Adversarial active learning (Ducoffe & Precioso 2018, DFAL; DeepAL+ AdvBIM/AdvDeepFool).

Every candidate is attacked (batched on the model's device, `kernels.adversarial`); the
points with the smallest perturbation that flips the prediction are the closest to the
decision boundary and are queried first (`kernels.adversarial_scores`). With
`add_adversarial: true` the queried points' adversarial examples join that round's
training with the queried (oracle) labels, as DFAL does; the examples come from the model
that made the query, so they exist for that round only (the default, like DeepAL+, is off).
"""

from dataclasses import fields

import torch

from deepal_bench.data.dataset import ALData
from deepal_bench.kernels.adversarial import AdversarialResult, adversarial_scores, bim, deepfool
from deepal_bench.selection import Selection
from deepal_bench.strategies.base import QueryContext, QueryResult, ScoreStrategy
from deepal_bench.strategies.registry import register
from deepal_bench.training.extensions import LabeledExamples, TrainerExtension
from deepal_bench.training.inference import eval_mode
from deepal_bench.typed import NonNegativeFloat, PositiveFloat, PositiveInt


def pixel_range(data: ALData, device: torch.device) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The normalised image range: (0 - mean) / std .. (1 - mean) / std per channel when the
    dataset records its normalisation, else the training set's per-channel extremes; None
    for tabular data (no clipping)."""
    if not data.is_image:
        return None
    channels = data.x_train.shape[1]
    if data.mean is not None and data.std is not None:
        mean = torch.tensor(data.mean, dtype=torch.float32).expand(channels)
        std = torch.tensor(data.std, dtype=torch.float32).expand(channels)
        low, high = (0 - mean) / std, (1 - mean) / std
    else:
        flat = data.x_train.transpose(0, 1).flatten(1)
        low, high = flat.min(1).values.float().cpu(), flat.max(1).values.float().cpu()
    return low.view(1, -1, 1, 1).to(device), high.view(1, -1, 1, 1).to(device)


class _Adversarial(ScoreStrategy):
    def __init__(self, add_adversarial: bool = False) -> None:
        self.add_adversarial = add_adversarial
        self._pending: LabeledExamples | None = None

    def attack(self, ctx: QueryContext, x: torch.Tensor) -> AdversarialResult:
        raise NotImplementedError

    def _attack_indices(
        self, ctx: QueryContext, indices: torch.Tensor, keep: bool = False
    ) -> tuple[list[AdversarialResult], list[torch.Tensor]]:
        """Attack the query inputs of `indices` (`QueryContext.input_batches`) in batches;
        the perturbations are dropped, and with `keep` the adversarial examples (input +
        perturbation) are returned beside the results."""
        results, examples = [], []
        with eval_mode(ctx.model):
            for _, x in ctx.input_batches(indices, "adversarial-kept" if keep else "adversarial"):
                result = self.attack(ctx, x.float())
                if keep:
                    examples.append((x.float() + result.perturbation).detach())
                result.perturbation = result.perturbation.new_empty(0)
                results.append(result)
        return results, examples

    def scores(self, ctx: QueryContext) -> torch.Tensor:
        results, _ = self._attack_indices(ctx, ctx.candidates)
        if not results:
            return torch.empty(0, device=ctx.device)
        merged = AdversarialResult(
            *(torch.cat([getattr(r, f.name) for r in results]) for f in fields(AdversarialResult))
        )
        return adversarial_scores(merged)

    def query(self, ctx: QueryContext, n: int, selection: Selection) -> QueryResult:
        result = super().query(ctx, n, selection)
        self._pending = None
        if self.add_adversarial and len(result.indices):
            _, examples = self._attack_indices(ctx, result.indices, keep=True)
            self._pending = LabeledExamples(torch.cat(examples), result.indices.cpu())
        return result

    def trainer_extension(self) -> TrainerExtension | None:
        pending, self._pending = self._pending, None
        return pending


@register("adv_bim")
class AdvBIM(_Adversarial):
    """AdvBIM (DeepAL+): BIM steps of `eps` until the label flips, at most `max_iter`,
    projected onto an L-inf ball of radius `eps_ball` (none = unbounded) and clipped to the
    pixel range; smallest perturbation first."""

    def __init__(
        self,
        eps: PositiveFloat = 0.05,
        max_iter: PositiveInt = 50,
        eps_ball: PositiveFloat | None = None,
        add_adversarial: bool = False,
    ) -> None:
        super().__init__(add_adversarial)
        self.eps, self.max_iter, self.eps_ball = eps, max_iter, eps_ball

    def attack(self, ctx: QueryContext, x: torch.Tensor) -> AdversarialResult:
        clip = pixel_range(ctx.data, x.device)
        return bim(ctx.model, x, self.eps, self.max_iter, self.eps_ball, clip)


@register("adv_deepfool")
class AdvDeepFool(_Adversarial):
    """DFAL (Ducoffe & Precioso 2018): DeepFool toward the closest boundary, at most
    `max_iter` = 50 iterations, overshoot 0.02; smallest perturbation first."""

    def __init__(
        self,
        max_iter: PositiveInt = 50,
        overshoot: NonNegativeFloat = 0.02,
        add_adversarial: bool = False,
    ) -> None:
        super().__init__(add_adversarial)
        self.max_iter, self.overshoot = max_iter, overshoot

    def attack(self, ctx: QueryContext, x: torch.Tensor) -> AdversarialResult:
        return deepfool(ctx.model, x, self.max_iter, self.overshoot)
