"""Strategy registry: `strategy.name` -> class; the remaining config keys are its options."""

from omegaconf import DictConfig

from deepal_bench.registry import Registry
from deepal_bench.strategies.base import Strategy

STRATEGIES: Registry[type[Strategy]] = Registry("strategy.name")


def register(name: str):
    """Class decorator: register a strategy under `name` and set its `name` attribute."""

    def decorator(cls: type[Strategy]) -> type[Strategy]:
        cls.name = name
        return STRATEGIES.register(name)(cls)

    return decorator


def build_strategy(cfg: DictConfig | dict) -> Strategy:
    return STRATEGIES.build(cfg)
