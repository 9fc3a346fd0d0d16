"""Directory names that spell config overrides: a sweep's trials and a vectorised run's
replicas are named the same way, e.g. `loss.r1_weight=0.1,seed=2`."""

from __future__ import annotations

import hashlib
import re
from typing import Any

MAX_NAME_LENGTH = 120


def format_value(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)  # Shortest exact form: 0.001, 1e-05.
    return str(value)


def overrides_name(overrides: dict[str, Any]) -> str:
    """A directory name that spells the overrides, e.g. `optim.d.lr=0.0003,seed=2`.

    Characters a file system or shell may mangle become `_`; names longer than 120 characters
    are cut and end in a hash of the full name, so they stay unique."""
    if not overrides:
        return "base"
    name = ",".join(f"{key}={format_value(value)}" for key, value in overrides.items())
    name = re.sub(r"[^A-Za-z0-9._=,+-]", "_", name)
    if len(name) > MAX_NAME_LENGTH:
        digest = hashlib.sha256(name.encode()).hexdigest()[:10]
        name = f"{name[:MAX_NAME_LENGTH - 11]}-{digest}"
    return name
