"""The platform a run trained on: what decides whether a re-run can be bit-identical."""

from __future__ import annotations

import json
import os
import platform
from typing import Any

import jax

from gan_jax.writers import write_json_atomic

ENVIRONMENT_FILE = "environment.json"


def current() -> dict[str, Any]:
    """What decides whether two runs can be bit-identical."""
    import jaxlib

    return {
        "backend": jax.default_backend(),
        "device_kind": jax.devices()[0].device_kind,
        "device_count": jax.device_count(),
        "process_count": jax.process_count(),
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "machine": platform.machine(),
    }


def record(workdir: str) -> None:
    """Appends this launch's environment to `workdir/environment.json` if it is new there."""
    path = os.path.join(workdir, ENVIRONMENT_FILE)
    sessions = read(workdir) or []
    now = current()
    if not sessions or sessions[-1] != now:
        write_json_atomic(path, {"sessions": [*sessions, now]})


def read(workdir: str) -> list[dict[str, Any]] | None:
    path = os.path.join(workdir, ENVIRONMENT_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)["sessions"]
