"""Name -> object registries, so models, losses, data and optimizers plug in by config name."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from gan_jax.config.errors import ConfigError, check_value, closest_keys, did_you_mean

__all__ = ["ConfigError", "Registry", "check_kwargs", "check_value", "did_you_mean"]

T = TypeVar("T")


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


def check_kwargs(section: str, owner: str, kwargs: dict[str, Any], fields: dict[str, Any],
                 positive_ints: bool = True) -> None:
    """Checks config keys passed to `owner` against its accepted fields and their types."""
    for key, value in kwargs.items():
        if key not in fields:
            hits = closest_keys(f"{section}.{key}", [f"{section}.{f}" for f in fields])
            hint = "; did you mean " + " or ".join(repr(h) for h in hits) + "?" if hits else ""
            raise ConfigError(
                f"unknown config key {section}.{key} for {owner}{hint}"
                f" (its keys: {', '.join(fields) or 'none'})"
            )
        check_value(f"{section}.{key}", value, fields[key], positive_ints)


def import_modules(spec: str) -> None:
    """Imports the comma-separated modules of `config.imports` (module names, or paths to
    .py files) so that what they register is known by name. Each is imported once per
    process; one that cannot be found or fails raises ConfigError naming it."""
    for name in (m.strip() for m in spec.split(",")):
        if not name:
            continue
        if not name.endswith(".py"):
            try:
                importlib.import_module(name)
            except ImportError as error:
                raise ConfigError(f"imports: cannot import module {name!r}: {error}") from None
            continue
        path = os.path.abspath(os.path.expanduser(name))
        module_name = "gan_jax_user_" + "".join(c if c.isalnum() else "_" for c in path)
        if module_name in sys.modules:
            continue
        if not os.path.isfile(path):
            raise ConfigError(f"imports: no such file {name!r}")
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception:
            del sys.modules[module_name]
            raise
