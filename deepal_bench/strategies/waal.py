"""WAAL: Wasserstein adversarial active learning (Shui et al. 2020, AISTATS).

Training adds the critic's Wasserstein term to the model's loss (`training.waal`). Query
(reference `WAAL.query`, `selection = 10`): with p the softmax output on the evaluation
transform, uncertainty u = 0.5 ||log p||_2 + 0.5 ||log p||_1 (both smallest for uniform p)
and critic score D(z); the reference picks the smallest u - selection * D(z), i.e. score =
selection * D(z) - u, highest first.
"""

from typing import Annotated, Literal

import torch

from deepal_bench.models.auxiliary import MLPDiscriminator
from deepal_bench.strategies.base import EMBEDDINGS, PROBS, QueryContext, ScoreStrategy
from deepal_bench.strategies.registry import register
from deepal_bench.training.extensions import TrainerExtension
from deepal_bench.training.joint import EpochSize, same_labeled
from deepal_bench.training.waal import CriticConfig, WAALExtension, fit_critic
from deepal_bench.typed import (
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    Range,
)


def waal_scores(probs: torch.Tensor, critic_out: torch.Tensor, selection: float) -> torch.Tensor:
    """selection * D(z) - (0.5 ||log p||_2 + 0.5 ||log p||_1); higher = queried first."""
    log_p = probs.clamp_min(torch.finfo(probs.dtype).tiny).log()
    uncertainty = 0.5 * log_p.norm(dim=1) + 0.5 * (-log_p).sum(dim=1)
    return selection * critic_out - uncertainty


@register("waal")
class WAAL(ScoreStrategy):
    """Wasserstein adversarial active learning (Shui et al. 2020)."""

    needs = frozenset({PROBS, EMBEDDINGS})

    def __init__(
        self,
        alpha: NonNegativeFloat = 2e-3,
        gp_weight: NonNegativeFloat = 2.0,
        selection: float = 10.0,
        critic_optimizer: Literal["adam", "sgd"] = "adam",
        critic_lr: PositiveFloat = 1e-3,
        critic_momentum: Annotated[float, Range(ge=0, lt=1)] = 0.5,
        epoch_size: EpochSize = "labeled",
        fallback_steps: NonNegativeInt = 100,
        fallback_batch_size: PositiveInt = 64,
    ) -> None:
        self.critic_cfg = CriticConfig(alpha, gp_weight, critic_optimizer, critic_lr,
                                       critic_momentum)  # fmt: skip
        self.selection = selection
        self.epoch_size = epoch_size
        self.fallback_steps, self.fallback_batch_size = fallback_steps, fallback_batch_size
        self._state: dict = {}

    def trainer_extension(self) -> TrainerExtension:
        return WAALExtension(self.critic_cfg, self.epoch_size, self.remember)

    def remember(self, labeled: torch.Tensor, critic: MLPDiscriminator) -> None:
        critic_state = {k: v.detach().cpu().clone() for k, v in critic.state_dict().items()}
        self._state = {"labeled": labeled.cpu().clone(), "critic": critic_state}

    def state_dict(self) -> dict:
        return dict(self._state)

    def load_state_dict(self, state: dict) -> None:
        self._state = dict(state)

    def _critic(self, ctx: QueryContext) -> MLPDiscriminator:
        """The critic trained with the model, or (when the strategy is queried without its
        training round, e.g. directly through the API) one fitted to the frozen features."""
        if same_labeled(self._state.get("labeled"), ctx.pool.labeled_indices()):
            critic = MLPDiscriminator(ctx.model.embedding_dim)
            critic.load_state_dict(self._state["critic"])
            return critic.to(ctx.device)
        z_l, z_u = ctx.labeled_embeddings().clone(), ctx.embeddings().clone()
        return fit_critic(
            z_l, z_u, self.critic_cfg, self.fallback_steps, self.fallback_batch_size, ctx.seed
        )

    def scores(self, ctx: QueryContext) -> torch.Tensor:
        critic = self._critic(ctx).eval()
        emb = ctx.embeddings()
        with torch.no_grad():
            out = torch.cat([critic(emb[i : i + ctx.batch_size])
                             for i in range(0, len(emb), ctx.batch_size)])  # fmt: skip
        return waal_scores(ctx.probs(), out, self.selection)
