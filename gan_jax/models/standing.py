"""Standing statistics: the BatchNorm statistics of a model's own batches, averaged.

A training-mode call of a Flax model moves every BatchNorm layer's running statistics by
r <- m r + (1 - m) b, where b is the batch's mean or variance and m the layer's momentum.
`batch_statistics` recovers b for every layer, whatever its momentum, from two calls: one
from running statistics of zeros, which gives (1 - m) b, and one from ones, which gives
m + (1 - m) b. `standing_statistics` averages b over several batches: the statistics a model
would have if its running averages had been taken, with equal weights, over exactly those
batches (used to give the EMA generator statistics of its own; see docs/models.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
from flax import linen as nn

PyTree = Any
BATCH_STATS = "batch_stats"


def batch_statistics(module: nn.Module, params: PyTree, model_state: PyTree, *args: Any,
                     **kwargs: Any) -> PyTree:
    """The batch means and variances of every BatchNorm layer in one training-mode call of
    `module` on `args` (a pytree shaped like model_state["batch_stats"])."""

    def moved(fill: float) -> PyTree:
        start = {**model_state, BATCH_STATS: jax.tree.map(
            lambda r: jnp.full_like(r, fill), model_state[BATCH_STATS])}
        _, new = module.apply({"params": params, **start}, *args, train=True,
                              mutable=[BATCH_STATS], **kwargs)
        return new[BATCH_STATS]

    from_zeros, from_ones = moved(0.0), moved(1.0)
    # from_zeros = (1 - m) b and from_ones - from_zeros = m.
    return jax.tree.map(lambda a, b: a / (1.0 - (b - a)), from_zeros, from_ones)


def standing_statistics(compute_batch: Callable[[Any], PyTree],
                        batches: Sequence[Any]) -> PyTree:
    """The mean over `batches` of `compute_batch(batch)` (e.g. a jitted `batch_statistics`)."""
    total = None
    for batch in batches:
        stats = compute_batch(batch)
        total = stats if total is None else jax.tree.map(jnp.add, total, stats)
    if total is None:
        raise ValueError("standing statistics need at least one batch")
    return jax.tree.map(lambda t: t / len(batches), total)
