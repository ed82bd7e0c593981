"""LPL: learning loss for active learning (Yoo & Kweon 2019, CVPR).

A loss-prediction module on the model's feature taps is trained with the model
(`training.lpl`: margin ranking loss eq. 2, λ = 1, ξ = 1, detach from `detach_epoch`, then
`extra_epochs` module-only epochs; DeepAL+ App. D.2: Adam lr 1e-2, 20 extra epochs). Query:
the highest predicted loss.
"""

import torch

from deepal_bench.errors import ConfigError
from deepal_bench.models.auxiliary import LossNet
from deepal_bench.models.base import ALModel
from deepal_bench.seeding import derive_seed, seeded_global_rng
from deepal_bench.selection import Selection
from deepal_bench.strategies.base import QueryContext, ScoreStrategy
from deepal_bench.strategies.registry import register
from deepal_bench.training.extensions import TrainerExtension
from deepal_bench.training.joint import same_labeled
from deepal_bench.training.lpl import (
    LPLConfig,
    LPLExtension,
    build_lossnet,
    fit_lossnet,
    predicted_losses,
)
from deepal_bench.typed import NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt


@register("lpl")
class LPL(ScoreStrategy):
    """Learning loss for active learning (Yoo & Kweon 2019): highest predicted loss first."""

    def __init__(
        self,
        margin: NonNegativeFloat = 1.0,
        weight: NonNegativeFloat = 1.0,
        detach_epoch: PositiveInt = 20,
        extra_epochs: NonNegativeInt = 20,
        module_lr: PositiveFloat = 1e-2,
        interm_dim: PositiveInt = 128,
        fallback_batch_size: PositiveInt = 64,
    ) -> None:
        self.cfg = LPLConfig(margin, weight, detach_epoch, extra_epochs, module_lr, interm_dim)
        self.fallback_batch_size = fallback_batch_size
        self._state: dict = {}

    def check(self, model: ALModel, selection: Selection) -> None:
        super().check(model, selection)
        if not model.feature_taps():
            raise ConfigError(
                f"strategy 'lpl' needs a model that declares feature taps; "
                f"'{type(model).__name__}' declares none (lenet, mlp, resnet18, vit_small and "
                f"vit_b_16 do)."
            )

    def trainer_extension(self) -> TrainerExtension:
        return LPLExtension(self.cfg, self.remember)

    def remember(self, labeled: torch.Tensor, lossnet: LossNet) -> None:
        dims = [fc.in_features for fc in lossnet.fcs]
        weights = {k: v.detach().cpu().clone() for k, v in lossnet.state_dict().items()}
        self._state = {"labeled": labeled.cpu().clone(), "dims": dims, "lossnet": weights}

    def state_dict(self) -> dict:
        return dict(self._state)

    def load_state_dict(self, state: dict) -> None:
        self._state = dict(state)

    def _lossnet(self, ctx: QueryContext) -> LossNet:
        """The module trained with the model, or (queried without its training round) one
        fitted to the frozen model on the labeled set for `extra_epochs` (at least 1)."""
        labeled = ctx.pool.labeled_indices()
        if same_labeled(self._state.get("labeled"), labeled):
            lossnet = LossNet(self._state["dims"], self.cfg.interm_dim)
            lossnet.load_state_dict(self._state["lossnet"])
            return lossnet.to(ctx.device)
        x = ctx.data.x_train[labeled.to(ctx.data.x_train.device)].to(ctx.device)
        y = ctx.data.y_train[labeled.to(ctx.data.y_train.device)].to(ctx.device)
        with seeded_global_rng(derive_seed(ctx.seed, "lpl-module"), ctx.device):
            lossnet = build_lossnet(ctx.model, x[:2], self.cfg.interm_dim)
        opt = torch.optim.Adam(lossnet.parameters(), lr=self.cfg.module_lr)
        gen = torch.Generator().manual_seed(derive_seed(ctx.seed, "lpl-batches"))
        epochs = max(self.cfg.extra_epochs, 1)
        fit_lossnet(
            ctx.model, lossnet, opt, x, y, epochs, self.fallback_batch_size, self.cfg.margin, gen
        )
        return lossnet

    def scores(self, ctx: QueryContext) -> torch.Tensor:
        lossnet = self._lossnet(ctx).eval()
        return predicted_losses(ctx.model, lossnet, ctx.input_batches(ctx.candidates, "lpl"))
