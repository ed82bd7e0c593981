"""Strategy registry: `strategy.name` -> class; the remaining config keys are its options."""

from omegaconf import DictConfig, OmegaConf

from deepal_bench.errors import ConfigError
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
    options = (
        OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
    )
    name = options.pop("name")
    cls = STRATEGIES.get(name)
    try:
        return cls(**options)
    except TypeError as err:
        raise ConfigError(f"strategy '{name}' got an unexpected option: {err}") from err
