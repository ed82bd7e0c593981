"""Strategy registry: `strategy.name` -> class; the remaining config keys are its options."""

from omegaconf import DictConfig

from deepal_bench.registry import Registry
from deepal_bench.strategies.base import Strategy

STRATEGIES: Registry[type[Strategy]] = Registry("strategy.name")
register = STRATEGIES.register


def build_strategy(cfg: DictConfig | dict) -> Strategy:
    return STRATEGIES.build(cfg)
