"""VAAL: variational adversarial active learning (Sinha et al. 2019, ICCV).

A β-VAE (latent 32) and a discriminator on its latent means are trained adversarially on
the labeled and unlabeled pool (`training.vaal`); the query takes the unlabeled points the
discriminator rates least likely to be labeled (reference sampler: top-k of -D(mu)); score
= 1 - D(mu). Defaults follow the DeepAL+ survey (App. D.2: 30 epochs, Adam lr 1e-3) and the
reference (2 VAE steps and 1 discriminator step per batch, beta = 1, adv_param = 1, batch
64). The networks are trained in the trainer's `teardown` hook on the round's
labeled/unlabeled split, exactly what the next query scores; a resumed run re-trains them
with the saved seed and queries as the uninterrupted run.
"""

import torch

from deepal_bench.seeding import derive_seed
from deepal_bench.strategies.base import QueryContext, ScoreStrategy
from deepal_bench.strategies.registry import register
from deepal_bench.training.extensions import TrainerExtension
from deepal_bench.training.joint import EpochSize, same_labeled
from deepal_bench.training.vaal import VAALConfig, VAALExtension, train_vaal
from deepal_bench.typed import NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt


def vaal_scores(p_labeled: torch.Tensor) -> torch.Tensor:
    """1 - D(mu): higher = less likely labeled = queried first (Sinha et al. 2019 §3.3)."""
    return 1.0 - p_labeled


@register("vaal")
class VAAL(ScoreStrategy):
    """Variational adversarial active learning (Sinha et al. 2019)."""

    def __init__(
        self,
        z_dim: PositiveInt = 32,
        width: PositiveInt = 128,
        epochs: NonNegativeInt = 30,
        batch_size: PositiveInt = 64,
        lr: PositiveFloat = 1e-3,
        beta: NonNegativeFloat = 1.0,
        adv_param: NonNegativeFloat = 1.0,
        vae_steps: NonNegativeInt = 2,
        adv_steps: NonNegativeInt = 1,
        epoch_size: EpochSize = "labeled",
    ) -> None:
        self.cfg = VAALConfig(
            z_dim, width, epochs, batch_size, lr, beta, adv_param, vae_steps, adv_steps,
            epoch_size,
        )  # fmt: skip
        self._state: dict = {}
        self._nets: tuple | None = None

    def trainer_extension(self) -> TrainerExtension:
        return VAALExtension(self.cfg, self.remember)

    def remember(self, labeled: torch.Tensor, seed: int, nets: tuple) -> None:
        self._state, self._nets = {"labeled": labeled.clone(), "seed": seed}, nets

    def state_dict(self) -> dict:
        return dict(self._state)

    def load_state_dict(self, state: dict) -> None:
        self._state, self._nets = dict(state), None

    def _networks(self, ctx: QueryContext) -> tuple:
        """The networks trained with the model; re-trained (same seed) after a resume, or
        with a seed from the query when queried without a training round."""
        labeled = ctx.pool.labeled_indices()
        if not same_labeled(self._state.get("labeled"), labeled):
            self._state, self._nets = {"labeled": labeled, "seed": derive_seed(ctx.seed)}, None
        if self._nets is None:
            self._nets = train_vaal(
                ctx.data, labeled, ctx.candidates, self.cfg, self._state["seed"], ctx.device
            )
        return self._nets

    def scores(self, ctx: QueryContext) -> torch.Tensor:
        vae, disc = self._networks(ctx)
        out = torch.empty(len(ctx.candidates), device=ctx.device)
        with torch.no_grad():
            for rows, x in ctx.input_batches(ctx.candidates, "vaal"):
                out[rows] = disc(vae.encode(x)[0])
        return vaal_scores(out)
