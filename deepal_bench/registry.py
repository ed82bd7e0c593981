"""Name -> class registries, so that adding a component is one class plus one YAML file.

A choice may also name its class by import path, Hydra's own idiom: `_target_:
my_package.module.MyStrategy` beside `name:` in the user's YAML. `Registry.adopt` imports
it, checks that it is a subclass of the group's base (or a function annotated to return
one) and registers it under that name, so the rest of the program treats it as a built-in.
"""

import inspect
import typing
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from hydra._internal.utils import _locate
from omegaconf import DictConfig, OmegaConf

from deepal_bench.errors import ConfigError, unknown_choice
from deepal_bench.typed import check_options

T = TypeVar("T")
TARGET = "_target_"  # the key naming a user's own class or factory by import path


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

    def adopt(self, name: str, target: str, base: type) -> None:
        """Register the object at import path `target` under `name`, once it is checked to
        be a subclass of `base` or a function annotated to return one (a ConfigError
        otherwise, or when `name` already names another object)."""
        group = self.key.split(".")[0]
        where = f"{group}.{TARGET}={target!r}"
        try:
            obj = _locate(target)  # what Hydra's `instantiate` resolves `_target_` with
        except (ImportError, ValueError) as err:
            reason = repr(err.__cause__) if err.__cause__ else str(err).splitlines()[0]
            raise ConfigError(
                f"Invalid {where}: it cannot be imported ({reason}); put the package that "
                f"defines it on PYTHONPATH or install it."
            ) from None
        if not _produces(obj, base):
            raise ConfigError(
                f"Invalid {where}: it must be a subclass of {base.__module__}.{base.__name__} "
                f"or a function annotated to return one."
            )
        if self._items.get(name, obj) is not obj:
            raise ConfigError(
                f"Invalid {group}.name={name!r} for {where}: that name is taken by "
                f"{_qualified(self._items[name])}; give your {group} another name."
            )
        other = [n for n, known in self._items.items() if known is obj and n != name]
        if other:
            raise ConfigError(
                f"Invalid {group}.name={name!r} for {where}: it is registered as "
                f"{other[0]!r}; use that name (one name per class, as in the records)."
            )
        if name not in self._items:
            self.register(name)(obj)

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def _produces(obj: object, base: type) -> bool:
    """Whether `obj` is a subclass of `base` or a function whose return annotation is."""
    if isinstance(obj, type):
        return issubclass(obj, base)
    if not callable(obj):
        return False
    try:
        returned = typing.get_type_hints(obj).get("return")
    except (NameError, TypeError):
        return False
    return isinstance(returned, type) and issubclass(returned, base)


def _qualified(obj: object) -> str:
    """`module.qualname` of a registered class or function (of a partial's function)."""
    func = getattr(obj, "func", obj)
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', repr(func))}"
