"""Evaluation of a run's latest checkpoint."""

from __future__ import annotations

import os
from typing import Any

from gan_jax import config as config_lib
from gan_jax.checkpoint import Checkpointer
from gan_jax.experiment import build_experiment


def load_run_config(workdir: str) -> config_lib.ConfigDict:
    path = os.path.join(workdir, "config.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not found: is {workdir!r} a gan_jax workdir?")
    with open(path) as f:
        return config_lib.from_json(f.read())


def evaluate_workdir(workdir: str, num_samples: int | None = None) -> dict[str, Any]:
    """Evaluates the raw and EMA generators of the latest checkpoint in `workdir`."""
    config = load_run_config(workdir)
    if num_samples is not None:
        config.eval.num_samples = num_samples
    experiment = build_experiment(config)
    checkpointer = Checkpointer(os.path.join(workdir, "checkpoints"), max_to_keep=1_000_000)
    try:
        state = checkpointer.restore(experiment.init_state())
    finally:
        checkpointer.close()
    return experiment.evaluate(state)
