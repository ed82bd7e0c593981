"""Query strategies, one file per family; importing this package registers them all."""

from deepal_bench.strategies import (
    adversarial,
    baseline,
    ceal,
    diversity,
    falcun,
    hybrid,
    lpl,
    ralif,
    related,
    uncertainty,
    vaal,
    waal,
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
    "adversarial",
    "ceal",
    "lpl",
    "vaal",
    "waal",
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
