"""Name -> object registries, so models, losses, data and optimizers plug in by config name."""

from __future__ import annotations

import difflib
import typing
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A config value that cannot be used. The message names the offending key."""


def did_you_mean(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class Registry(Generic[T]):
    """A case-sensitive mapping from config names to objects of one kind."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = obj
            return obj

        return decorator

    def get(self, name: str, key: str | None = None) -> T:
        """Returns the entry, or raises ConfigError naming `key` and the known names."""
        if name not in self._entries:
            where = f"{key}: " if key else ""
            raise ConfigError(
                f"{where}unknown {self.kind} {name!r}{did_you_mean(str(name), self.names())}"
                f" (known: {', '.join(self.names())})"
            )
        return self._entries[name]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def check_value(key: str, value: Any, expected: Any, positive_ints: bool = True) -> None:
    """Raises ConfigError unless `value` fits the annotation `expected` (ints count as floats).

    Integer fields of modules and datasets are sizes, so by default they must be positive.
    """
    origin = typing.get_origin(expected) or expected
    if origin is Any or not isinstance(origin, type):
        return
    if origin is float and isinstance(value, int) and not isinstance(value, bool):
        return
    if not isinstance(value, origin) or (origin is int and isinstance(value, bool)):
        raise ConfigError(
            f"{key}: expected {getattr(expected, '__name__', expected)}, "
            f"got {type(value).__name__} {value!r}"
        )
    if positive_ints and origin is int and value < 1:
        raise ConfigError(f"{key}: must be a positive size, got {value}")


def check_kwargs(section: str, owner: str, kwargs: dict[str, Any], fields: dict[str, Any],
                 positive_ints: bool = True) -> None:
    """Checks config keys passed to `owner` against its accepted fields and their types."""
    for key, value in kwargs.items():
        if key not in fields:
            raise ConfigError(
                f"{section}.{key}: unknown key for {owner}{did_you_mean(key, list(fields))}"
                f" (known: {', '.join(fields) or 'none'})"
            )
        check_value(f"{section}.{key}", value, fields[key], positive_ints)
