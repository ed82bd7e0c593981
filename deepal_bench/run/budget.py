"""Budget (DeepAL+ naming): initial labeled set, batch per round, quota after the initial set."""

import math
from dataclasses import dataclass
from typing import Literal

from deepal_bench.errors import ConfigError
from deepal_bench.typed import NonNegativeInt, PositiveInt, check_fields


@dataclass(frozen=True)
class Budget:
    """`initial` labeled points, then `ceil(quota / batch)` rounds of `batch` (last may be
    smaller); `validation` labeled points held out of the pool for model selection."""

    initial: PositiveInt
    batch: PositiveInt
    quota: NonNegativeInt
    initial_mode: Literal["random", "balanced"] = "random"
    validation: NonNegativeInt = 0

    def __post_init__(self) -> None:
        check_fields(self, "budget")

    @property
    def rounds(self) -> int:
        """Number of query rounds after round 0."""
        return math.ceil(self.quota / self.batch)

    def batch_size(self, round_: int) -> int:
        """Points queried in query round `round_` (1-based)."""
        return min(self.batch, self.quota - self.batch * (round_ - 1))

    def check_pool(self, pool_size: int) -> None:
        if self.initial > pool_size:
            raise ConfigError(
                f"budget.initial={self.initial} is larger than the training pool "
                f"({pool_size} points)."
            )
        if self.initial + self.quota > pool_size:
            raise ConfigError(
                f"budget.quota={self.quota} plus budget.initial={self.initial} is larger than "
                f"the training pool ({pool_size} points); lower budget.quota to at most "
                f"{pool_size - self.initial}."
            )
