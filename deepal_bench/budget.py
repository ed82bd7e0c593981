"""Budget (DeepAL+ naming): initial labeled set, batch per round, quota after the initial set."""

import math
from dataclasses import dataclass

from deepal_bench.data.pool import INITIAL_MODES
from deepal_bench.errors import ConfigError, unknown_choice


@dataclass(frozen=True)
class Budget:
    """`initial` labeled points, then `ceil(quota / batch)` rounds of `batch` (last may be
    smaller); `validation` labeled points held out of the pool for model selection."""

    initial: int
    batch: int
    quota: int
    initial_mode: str = "random"
    validation: int = 0

    def __post_init__(self) -> None:
        if self.initial < 1 or self.batch < 1 or self.quota < 0 or self.validation < 0:
            raise ConfigError(
                "budget.initial and budget.batch must be >= 1, budget.quota and "
                f"budget.validation >= 0 (got initial={self.initial}, batch={self.batch}, "
                f"quota={self.quota}, validation={self.validation})."
            )
        if self.initial_mode not in INITIAL_MODES:
            raise unknown_choice("budget.initial_mode", self.initial_mode, INITIAL_MODES)

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
