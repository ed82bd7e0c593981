"""Name -> class registries, so that adding a component is one class plus one YAML file."""

import inspect
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from omegaconf import DictConfig, OmegaConf

from deepal_bench.errors import ConfigError, unknown_choice
from deepal_bench.typed import check_options

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection of factories; unknown names raise a ConfigError listing the choices."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering `obj` under `name`; a registered class gets `name` as its
        `name` attribute, so the registry is the one place that names it."""

        def decorator(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.key} '{name}' is registered twice")
            if isinstance(obj, type):
                obj.name = name
            self._items[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        if name not in self._items:
            raise unknown_choice(self.key, name, self._items)
        return self._items[name]

    def check(self, cfg: DictConfig | dict, *args: Any) -> tuple[Callable, dict]:
        """The factory named by `cfg["name"]` and its options, after checking them against
        its signature: unknown options and values of the wrong type or range are a
        ConfigError naming the key (nothing is built)."""
        options = (
            OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)
        )
        name = options.pop("name")
        factory = self.get(name)
        group = self.key.split(".")[0]
        try:
            inspect.signature(factory).bind_partial(*args, **options)
        except TypeError as err:
            raise ConfigError(f"{group} '{name}' got an unexpected option: {err}") from err
        check_options(group, options, factory)
        return factory, options

    def build(self, cfg: DictConfig | dict, *args: Any) -> Any:
        """Call the factory named by `cfg["name"]` with `*args` and the other keys of `cfg`,
        once `check` accepts them (errors raised inside the factory pass through)."""
        factory, options = self.check(cfg, *args)
        return factory(*args, **options)

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
