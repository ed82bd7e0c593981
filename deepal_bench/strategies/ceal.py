"""CEAL: cost-effective active learning (Wang et al. 2016, IEEE TCSVT, §III-C).

A base strategy picks the queried batch; the remaining unlabeled points whose predicted
entropy is below δ_t join that round's training with their predicted label
(`training.ceal`), δ0 = 1e-5 (DeepAL+ survey App. D.2), dr = 0.033e-5 decayed cumulatively
per round (DeepAL+ code; `decay_schedule: linear` is the CEAL paper's form).
"""

import torch

from deepal_bench import kernels
from deepal_bench.errors import ConfigError
from deepal_bench.models.base import ALModel
from deepal_bench.selection import Selection
from deepal_bench.strategies.base import PROBS, QueryContext, QueryResult, Strategy
from deepal_bench.strategies.registry import build_strategy, register
from deepal_bench.training.ceal import CEALExtension, DecaySchedule, PseudoLabels
from deepal_bench.training.extensions import TrainerExtension, chain
from deepal_bench.typed import NonNegativeFloat


@register("ceal")
class CEAL(Strategy):
    """Cost-effective active learning: base strategy + pseudo-labels below δ_t."""

    def __init__(
        self,
        base: str = "entropy",
        base_options: dict | None = None,
        delta0: NonNegativeFloat = 1e-5,
        decay: NonNegativeFloat = 0.033e-5,
        decay_schedule: DecaySchedule = "cumulative",
    ) -> None:
        self.base = build_strategy({"name": base, **(base_options or {})})
        if isinstance(self.base, CEAL):
            raise ConfigError(f"strategy.base cannot be '{base}' (CEAL); name another strategy.")
        self.needs = self.base.needs | {PROBS}
        self.delta0, self.decay, self.decay_schedule = delta0, decay, decay_schedule
        self._pending: PseudoLabels | None = None

    def check(self, model: ALModel, selection: Selection) -> None:
        self.base.check(model, selection)

    def query(self, ctx: QueryContext, n: int, selection: Selection) -> QueryResult:
        result = self.base.query(ctx, n, selection)
        rest = ~torch.isin(ctx.candidates, result.indices.cpu())
        probs = ctx.probs()[rest.to(ctx.probs().device)]
        self._pending = PseudoLabels(
            ctx.candidates[rest], probs.argmax(1).cpu(), kernels.entropy(probs).cpu()
        )
        return result

    def trainer_extension(self) -> TrainerExtension | None:
        """CEAL's pseudo-labels from the query just made (used once), then the base's hooks."""
        pending, self._pending = self._pending, None
        own = None
        if pending is not None:
            own = CEALExtension(pending, self.delta0, self.decay, self.decay_schedule)
        return chain(self.base.trainer_extension(), own)

    def state_dict(self) -> dict:
        return self.base.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.base.load_state_dict(state)
