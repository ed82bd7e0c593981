"""Typed configuration: every key has a type and a range, checked before anything runs.

The schema of a config group is the signature of what it builds: a strategy's, model's,
selection's or estimator's constructor, a dataset loader, or a dataclass (`Budget`,
`TrainerConfig`, the top-level `RunSettings`). Annotations carry the ranges
(`Annotated[int, Range(ge=1)]`, aliases below) and the choices (`Literal[...]`). A value of
the wrong type or out of range is a ConfigError naming the key, the value and what is
allowed; nothing is coerced, so `trials=1.5` or `deterministic=maybe` are refused rather
than rounded or read as true. A number is finite (`trainer.lr=inf` is refused before
anything runs, not blamed on divergence later).
"""

import inspect
import math
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Annotated, Any, Literal

from omegaconf import DictConfig, ListConfig, OmegaConf

from deepal_bench.errors import ConfigError, unknown_choice


@dataclass(frozen=True)
class Range:
    """Bounds of a number: `ge`/`gt` below, `le`/`lt` above (None = unbounded)."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def holds(self, value: float) -> bool:
        return (
            (self.ge is None or value >= self.ge)
            and (self.gt is None or value > self.gt)
            and (self.le is None or value <= self.le)
            and (self.lt is None or value < self.lt)
        )

    def describe(self) -> str:
        parts = [f"{op} {_number(bound)}" for op, bound in
                 ((">=", self.ge), (">", self.gt), ("<=", self.le), ("<", self.lt))
                 if bound is not None]  # fmt: skip
        return " and ".join(parts)


def _number(bound: float) -> str:
    """A bound in words: integers in full (2**32 - 1 is 4294967295, not 4.29497e+09)."""
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"


PositiveInt = Annotated[int, Range(ge=1)]
NonNegativeInt = Annotated[int, Range(ge=0)]
PositiveFloat = Annotated[float, Range(gt=0)]
NonNegativeFloat = Annotated[float, Range(ge=0)]
Probability = Annotated[float, Range(ge=0, le=1)]
OpenFraction = Annotated[float, Range(gt=0, lt=1)]
TestSize = OpenFraction | PositiveInt  # a fraction of the data, or a number of points
SEED_LIMIT = 2**32  # seeds are 32-bit words (seeding.derive_seed): 0 .. 2**32 - 1
Seed = Annotated[int, Range(ge=0, lt=SEED_LIMIT)]


class _Mismatch(Exception):
    """A value does not match an annotation; the message says what is allowed."""


def _plain(value: Any) -> Any:
    if isinstance(value, DictConfig | ListConfig):
        return OmegaConf.to_container(value, resolve=True)
    return value


def describe(annotation: Any) -> str:
    """What an annotation allows, in words."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        bounds = [a.describe() for a in args[1:] if isinstance(a, Range)]
        return " ".join([describe(args[0]), *bounds])
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe(a) for a in args)
    if origin in (list, tuple):
        return f"a list of {describe(args[0])}s" if args else "a list"
    if origin is dict or annotation is dict:
        return "a mapping"
    names = {bool: "true or false", int: "an integer", float: "a finite number", str: "a string",
             type(None): "null", Any: "anything", list: "a list"}  # fmt: skip
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _check_scalar(value: Any, annotation: Any) -> None:
    if annotation is Any or annotation is inspect.Parameter.empty:
        return
    if annotation is type(None):
        ok = value is None
    elif annotation is bool:
        ok = isinstance(value, bool)
    elif annotation is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif annotation is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and math.isfinite(value)
    elif annotation in (str, dict, list):
        ok = isinstance(value, annotation)
    else:
        ok = True
    if not ok:
        raise _Mismatch(describe(annotation))


def conform(value: Any, annotation: Any) -> None:
    """Raise _Mismatch when `value` does not match `annotation`."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        try:
            conform(value, args[0])
        except _Mismatch:  # say the whole annotation: "a finite number > 0", not "a number"
            raise _Mismatch(describe(annotation)) from None
        for bound in (a for a in args[1:] if isinstance(a, Range)):
            if not bound.holds(value):
                raise _Mismatch(describe(annotation))
    elif origin is Literal:
        if value not in args or isinstance(value, bool) != any(isinstance(a, bool) for a in args):
            raise _Mismatch(describe(annotation))
    elif origin in (typing.Union, types.UnionType):
        for option in args:
            try:
                return conform(value, option)
            except _Mismatch:
                continue
        raise _Mismatch(describe(annotation))
    elif origin in (list, tuple):
        if not isinstance(value, list | tuple):
            raise _Mismatch(describe(annotation))
        for item in value:
            conform(item, args[0] if args else Any)
    elif origin is dict:
        if not isinstance(value, Mapping):
            raise _Mismatch(describe(annotation))
    else:
        _check_scalar(value, annotation)


def check_value(key: str, value: Any, annotation: Any) -> None:
    """A ConfigError naming `key`, `value` and what is allowed when they do not match."""
    value = _plain(value)
    try:
        conform(value, annotation)
    except _Mismatch as mismatch:
        if typing.get_origin(annotation) is Literal:
            raise unknown_choice(key, value, typing.get_args(annotation)) from None
        shown = "null" if value is None else repr(value) if isinstance(value, str) else value
        raise ConfigError(f"Invalid {key}={shown}: it must be {mismatch}.") from None


def signature_hints(factory: Callable) -> dict[str, Any]:
    """Parameter annotations of a function or a class's constructor (extras kept)."""
    target = factory.__init__ if isinstance(factory, type) else factory
    if hasattr(factory, "func"):  # functools.partial
        target = factory.func
    return typing.get_type_hints(target, include_extras=True)


def check_options(prefix: str, options: Mapping[str, Any], factory: Callable) -> None:
    """Every option in `options` matches the annotation of `factory`'s parameter of that
    name (`prefix.key` in messages); unknown names are left to the caller's binding."""
    hints = signature_hints(factory)
    for name, value in options.items():
        if name in hints:
            check_value(f"{prefix}.{name}", value, hints[name])


def check_fields(obj: Any, prefix: str) -> None:
    """Every field of the dataclass instance `obj` matches its annotation (called from
    `__post_init__`, so a dataclass built in code is checked like one built from config)."""
    hints = typing.get_type_hints(type(obj), include_extras=True)
    for f in fields(obj):
        check_value(f"{prefix}.{f.name}" if prefix else f.name, getattr(obj, f.name), hints[f.name])


def build_dataclass(prefix: str, cls: type, options: Mapping[str, Any]):
    """`cls(**options)`; a key that is not a field is a ConfigError listing the valid ones
    (the values are checked by the dataclass's own `check_fields`)."""
    assert is_dataclass(cls)
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(options) - names)
    if unknown:
        where = ", ".join(f"{prefix}.{k}" if prefix else k for k in unknown)
        raise ConfigError(f"Unknown key(s) {where}. Valid keys: {', '.join(sorted(names))}.")
    return cls(**{k: _plain(v) for k, v in options.items()})
