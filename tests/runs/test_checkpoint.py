"""The Orbax checkpointer: round trips, and checkpoints that do not fit the model."""

import gc
import os
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.runs.checkpoint import Checkpointer


class Moments(NamedTuple):
    mu: dict
    count: jnp.ndarray


def state(width: int = 3, with_bias: bool = True) -> dict:
    params = {"kernel": jnp.arange(2.0 * width).reshape(2, width)}
    if with_bias:
        params["bias"] = jnp.full((width,), 0.5)
    return {"params": params, "opt": Moments(mu=jax.tree.map(jnp.zeros_like, params),
                                             count=jnp.array(7, jnp.int32))}


def save(directory: str, value: dict, step: int = 10) -> None:
    checkpointer = Checkpointer(directory, max_to_keep=3)
    checkpointer.save(step, value)
    checkpointer.close()


def restore(directory: str, template: dict, step: int | None = None) -> dict:
    checkpointer = Checkpointer(directory, max_to_keep=3)
    try:
        return checkpointer.restore(template, step)
    finally:
        checkpointer.close()


def test_a_state_with_named_tuples_round_trips(tmp_path):
    saved = state()
    save(str(tmp_path), saved)
    restored = restore(str(tmp_path), state())
    assert isinstance(restored["opt"], Moments)
    for a, b in [(saved["params"]["kernel"], restored["params"]["kernel"]),
                 (saved["params"]["bias"], restored["params"]["bias"]),
                 (saved["opt"].count, restored["opt"].count)]:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_a_checkpoint_of_another_shape_names_every_array_that_differs(tmp_path):
    save(str(tmp_path), state(width=3))
    with pytest.raises(ValueError) as error:
        restore(str(tmp_path), state(width=4))
    message = str(error.value)
    assert "the checkpoint of step 10" in message and "does not fit this model" in message
    # Four arrays differ; the first three in the tree's order are named.
    assert "opt/mu/bias is (3,) in the checkpoint and (4,) in this model" in message
    assert "opt/mu/kernel is (2, 3) in the checkpoint and (2, 4) in this model" in message
    assert "params/bias is (3,) in the checkpoint and (4,) in this model" in message
    assert "(and 1 more)" in message
    assert "count" not in message


def test_a_checkpoint_with_other_arrays_names_the_missing_and_the_extra(tmp_path):
    save(str(tmp_path), state(with_bias=True))
    with pytest.raises(ValueError, match="params/bias is in the checkpoint but not in this model"):
        restore(str(tmp_path), state(with_bias=False))
    save(str(tmp_path / "no_bias"), state(with_bias=False))
    with pytest.raises(ValueError, match="params/bias is missing from the checkpoint"):
        restore(str(tmp_path / "no_bias"), state(with_bias=True), step=10)


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_mismatch_leaves_no_read_pending(tmp_path):
    """Found from the metadata, a mismatch starts no array read that Orbax would abandon and
    complain about later, in whatever code runs next."""
    save(str(tmp_path), state(width=3))
    for _ in range(3):
        with pytest.raises(ValueError, match="does not fit this model"):
            restore(str(tmp_path), state(width=4))
    gc.collect()
    assert os.path.isdir(os.path.join(str(tmp_path), "10"))  # Not set aside as unreadable.
