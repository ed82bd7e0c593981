"""Name -> class registries, so that adding a component is one class plus one YAML file."""

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from deepal_bench.errors import unknown_choice

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection of factories; unknown names raise a ConfigError listing the choices."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering `obj` under `name`."""

        def decorator(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.key} '{name}' is registered twice")
            self._items[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        if name not in self._items:
            raise unknown_choice(self.key, name, self._items)
        return self._items[name]

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
