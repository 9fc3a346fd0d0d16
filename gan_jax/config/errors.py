"""Config errors and the did-you-mean suggestions that name the key a user meant."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

# Leaf names users reach for that the schema spells differently.
SYNONYMS = {
    "width": ("hidden_dim", "width"),
    "hidden": ("hidden_dim",),
    "units": ("hidden_dim",),
    "features": ("hidden_dim", "width"),
    "channels": ("width", "channels"),
    "layers": ("depth",),
    "num_layers": ("depth",),
    "learning_rate": ("lr",),
    "steps": ("num_steps",),
    "iterations": ("num_steps",),
    "batch": ("batch_size",),
    "bs": ("batch_size",),
    "d_steps": ("n_disc",),
    "n_critic": ("n_disc",),
    "z_dim": ("latent_dim",),
    "nz": ("latent_dim",),
    "ema": ("ema_decay",),
    "dataset": ("name",),
}


class ConfigError(ValueError):
    """A config value that cannot be used. The message names the offending key."""


def did_you_mean(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def closest_keys(path: str, known: list[str]) -> list[str]:
    """The dotted keys of `known` a mistyped `path` most likely meant: the same leaf (or a
    synonym of it) in the same section first, then anywhere, then by spelling."""
    *section, leaf = path.split(".")
    prefix = ".".join(section)

    def in_section(key: str) -> bool:
        return key.rpartition(".")[0] == prefix

    def same_leaf(wanted: tuple[str, ...]) -> list[str]:
        for names in ([k for k in known if in_section(k)], known):
            hits = [k for w in wanted for k in names if k.rpartition(".")[2] == w and k != path]
            if hits:
                return list(dict.fromkeys(hits))[:2]
        return []

    hits = same_leaf(SYNONYMS.get(leaf, ()) + (leaf,))
    if hits:
        return hits
    leaves = [k for k in known if in_section(k)]
    leaf_names = [k.rpartition(".")[2] for k in leaves]
    # A misspelt synonym ("widht") means what the synonym means, unless a real key is closer.
    close = difflib.get_close_matches(leaf, leaf_names + list(SYNONYMS), n=1, cutoff=0.6)
    if close and close[0] in SYNONYMS and close[0] not in leaf_names:
        hits = same_leaf(SYNONYMS[close[0]])
        if hits:
            return hits
    close = difflib.get_close_matches(leaf, leaf_names, n=1, cutoff=0.6)
    if close:
        return [next(k for k in leaves if k.rpartition(".")[2] == close[0])]
    return difflib.get_close_matches(path, known, n=1, cutoff=0.6)


def unknown_key_message(path: str, known: list[str], what: str = "unknown config key") -> str:
    """`unknown config key 'a.b'; did you mean 'a.c'?` with the full dotted suggestion."""
    hits = closest_keys(path, known)
    hint = "" if not hits else "; did you mean " + " or ".join(repr(h) for h in hits) + "?"
    return f"{what} {path!r}{hint}"


def check_value(key: str, value: Any, expected: Any, positive_ints: bool = True) -> None:
    """Raises ConfigError unless `value` fits the annotation `expected` (ints count as floats).

    Integer fields of modules and datasets are sizes, so by default they must be positive.
    """
    origin = typing.get_origin(expected) or expected
    if origin is types.UnionType or origin is typing.Union:  # Any of the members.
        for member in typing.get_args(expected):
            try:
                return check_value(key, value, member, positive_ints)
            except ConfigError:
                pass
        raise ConfigError(f"{key}: expected {expected}, got {type(value).__name__} {value!r}")
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
