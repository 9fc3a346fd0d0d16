"""Scalar hyperparameters read by the builders of a train step, with their per-replica values.

A vectorised run (`train.vectorise`) trains replicas that differ in scalar hyperparameters as
one program: the builders read those keys from `values` ({dotted key: traced scalar}), and
everything else (which penalties exist, which optimizer) from the config.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Values = Mapping[str, Any]


def lookup(config: Any, key: str) -> Any:
    """The value of dotted `key` in `config`."""
    node = config
    for part in key.split("."):
        node = node[part]
    return node


def value(config: Any, key: str, values: Values | None = None) -> Any:
    """`key`'s per-replica value when vectorised, else its configured value as a float."""
    if values and key in values:
        return values[key]
    return float(lookup(config, key))


def section_values(values: Values | None, section: str) -> dict[str, Any]:
    """{leaf: value} of the vectorised keys directly under `section` (e.g. "optim.g")."""
    prefix = section + "."
    return {key[len(prefix):]: v for key, v in (values or {}).items()
            if key.startswith(prefix) and "." not in key[len(prefix):]}
