"""Train-step throughput: steps/s after warm-up, median of repeats, with machine details."""

from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Any

import jax

from gan_jax import config as config_lib
from gan_jax.experiment import build_experiment
from gan_jax.step import make_multi_step


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    device = jax.devices()[0]
    return {
        "backend": jax.default_backend(),
        "device_kind": device.device_kind,
        "device_count": jax.device_count(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "python": platform.python_version(),
    }


def benchmark(config: config_lib.ConfigDict, calls: int = 10, repeats: int = 5) -> dict[str, Any]:
    """Times `repeats` blocks of `calls` compiled calls of `train.steps_per_call` steps each."""
    config = config_lib.with_seed(config, 0)
    experiment = build_experiment(config)
    steps_per_call = config.train.steps_per_call
    multi_step = jax.jit(make_multi_step(experiment.train_step()), static_argnums=1,
                         donate_argnums=0)
    state = experiment.init_state()
    for _ in range(2):  # Compile, then one more call to settle allocations and caches.
        state, metrics = multi_step(state, steps_per_call)
    jax.block_until_ready(state)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            state, metrics = multi_step(state, steps_per_call)
        jax.block_until_ready(state)
        rates.append(calls * steps_per_call / (time.perf_counter() - start))
    steps_per_sec = statistics.median(rates)
    batch = config.train.batch_size
    return {
        "data": config.data.name,
        "batch_size": batch,
        "n_disc": config.train.n_disc,
        "steps_per_call": steps_per_call,
        "steps_per_sec_median": steps_per_sec,
        "steps_per_sec_repeats": rates,
        "generator_examples_per_sec": steps_per_sec * batch,
        "machine": machine_info(),
    }
