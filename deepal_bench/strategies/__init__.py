"""Query strategies, one file per family; importing this package registers them all."""

from deepal_bench.strategies import (
    baseline,
    diversity,
    falcun,
    hybrid,
    ralif,
    related,
    uncertainty,
)
from deepal_bench.strategies.base import (
    BatchStrategy,
    QueryContext,
    QueryResult,
    ScoreStrategy,
    Strategy,
)
from deepal_bench.strategies.registry import STRATEGIES, build_strategy, register

__all__ = [
    "STRATEGIES",
    "BatchStrategy",
    "QueryContext",
    "QueryResult",
    "ScoreStrategy",
    "Strategy",
    "baseline",
    "build_strategy",
    "diversity",
    "falcun",
    "hybrid",
    "ralif",
    "register",
    "related",
    "uncertainty",
]
