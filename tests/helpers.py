"""Test helpers shared by the loop and CLI tests."""

from __future__ import annotations

import os

import jax
import numpy as np

from gan_jax.checkpoint import Checkpointer
from gan_jax.evaluate import load_run_config
from gan_jax.experiment import build_experiment


def load_state(workdir: str, step: int | None = None):
    """The train state saved in `workdir` (latest step by default)."""
    experiment = build_experiment(load_run_config(workdir))
    checkpointer = Checkpointer(os.path.join(workdir, "checkpoints"), 100)
    try:
        return checkpointer.restore(experiment.init_state(), step)
    finally:
        checkpointer.close()


def assert_states_identical(a, b) -> None:
    """Bit-identical pytrees: same structure and every array equal, no tolerance."""
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
