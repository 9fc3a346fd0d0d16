"""The platform a run trained on: what decides whether a re-run can be bit-identical.

On a CPU, XLA compiles for the instruction set it finds (or the one `--xla_cpu_max_isa`
allows), so the same JAX version gives different floating-point results on AVX2 and AVX-512
machines: the CPU's model and that instruction set are recorded with the backend, devices
and versions.
"""

from __future__ import annotations

import json
import os
import platform
import re
from typing import Any

import jax

from gan_jax.runs.writers import write_json_atomic

ENVIRONMENT_FILE = "environment.json"
CPUINFO = "/proc/cpuinfo"
# XLA:CPU's instruction-set names (its --xla_cpu_max_isa values), newest first, with the
# /proc/cpuinfo flag that shows each one.
X86_ISAS = (("AMX_FP16", "amx_fp16"), ("AMX", "amx_bf16"), ("AVX512_BF16", "avx512_bf16"),
            ("AVX512_VNNI", "avx512_vnni"), ("AVX512", "avx512f"), ("AVX2", "avx2"),
            ("AVX", "avx"), ("SSE4_2", "sse4_2"))
ARM_ISAS = (("SVE2", "sve2"), ("SVE", "sve"), ("NEON", "asimd"))


def _cpuinfo(path: str = CPUINFO) -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo ({} where there is none)."""
    fields: dict[str, str] = {}
    try:
        with open(path) as f:
            for line in f:
                if not line.strip():
                    if fields:
                        break
                    continue
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        return {}
    return fields


def cpu_model(info: dict[str, str] | None = None) -> str:
    """The CPU's name, with its family and model numbers where the name alone is coarse."""
    info = _cpuinfo() if info is None else info
    name = info.get("model name") or info.get("Model") or platform.processor() or "unknown"
    numbers = [f"{label} {info[key]}" for key, label in
               (("cpu family", "family"), ("model", "model"), ("CPU part", "part"))
               if info.get(key)]
    return f"{name} ({', '.join(numbers)})" if numbers else name


def cpu_isa(info: dict[str, str] | None = None, xla_flags: str | None = None) -> str:
    """The newest instruction set XLA:CPU compiles for here: the CPU's, capped by
    `--xla_cpu_max_isa` in XLA_FLAGS."""
    info = _cpuinfo() if info is None else info
    flags = set((info.get("flags") or info.get("Features") or "").split())
    table = ARM_ISAS if "Features" in info and "flags" not in info else X86_ISAS
    found = next((name for name, flag in table if flag in flags), None)
    if found is None:
        return "unknown"
    xla_flags = os.environ.get("XLA_FLAGS", "") if xla_flags is None else xla_flags
    cap = re.search(r"--xla_cpu_max_isa=(\w+)", xla_flags)
    names = [name for name, _ in table]
    if cap and cap.group(1).upper() in names:
        found = names[max(names.index(found), names.index(cap.group(1).upper()))]
    return found


def current() -> dict[str, Any]:
    """What decides whether two runs can be bit-identical."""
    import jaxlib

    info = _cpuinfo()
    return {
        "backend": jax.default_backend(),
        "device_kind": jax.devices()[0].device_kind,
        "device_count": jax.device_count(),
        "process_count": jax.process_count(),
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "machine": platform.machine(),
        "cpu_model": cpu_model(info),
        "cpu_isa": cpu_isa(info),
    }


def differences(recorded: list[dict[str, Any]], now: dict[str, Any]) -> list[str]:
    """'key: recorded -> now' for every field in which a recorded launch differs from `now`
    (a field an older gan_jax did not record differs: 'not recorded')."""
    found = []
    for session in recorded:
        for key, value in now.items():
            old = session.get(key, "not recorded")
            line = f"{key}: {old} -> {value}"
            if old != value and line not in found:
                found.append(line)
    return found


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
