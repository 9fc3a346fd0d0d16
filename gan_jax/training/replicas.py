"""Several runs in one compiled program: `jax.vmap` over the whole train state.

With `train.num_seeds = K`, replica k is the run of seed `seed + k`; with `train.vectorise`,
replicas also differ in scalar hyperparameters (see `training.vectorise`). Each replica's
initial state, step keys, data order and evaluation latents are those of a separate run of its
own config, so its numbers match that run's up to the order of floating-point reductions. The
replicas share one compiled step, which keeps a small model from leaving an accelerator idle.

The scalars that differ enter the step as traced values, one per replica ({key: [R]} vmapped
with the state); everything else, including which penalties the step computes, comes from
one structure config (`vectorise.structure_config`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from gan_jax import config as config_lib
from gan_jax.training import vectorise
from gan_jax.training.experiment import DATA_STREAM, Experiment, build_experiment
from gan_jax.training.hyperparameters import lookup
from gan_jax.training.update import make_multi_step

PyTree = Any
# The only per-replica entry of a dataset's device data: the key that orders its batches.
SHUFFLE_KEY = "shuffle_key"


def build_replicas(config: config_lib.ConfigDict) -> list[Experiment]:
    """One experiment per replica of a validated config (its own seed and values), sharing
    the data and models built once (compiles nothing)."""
    experiment = build_experiment(config)
    configs = vectorise.replica_configs(config)
    if len(configs) == 1 and not config.train.vectorise:
        return [experiment]
    if not vectorise.varying_keys(configs):  # Seeds only: the same loss, optimizers, step.
        return [dataclasses.replace(experiment, config=c, cache={}) for c in configs]
    return [experiment.for_config(c) for c in configs]


def replica_values(experiments: list[Experiment]) -> dict[str, jax.Array]:
    """{key: [R] float32}: the scalars that differ between the replicas, per replica."""
    configs = [e.config for e in experiments]
    return {key: jnp.asarray([float(lookup(c, key)) for c in configs], jnp.float32)
            for key in vectorise.varying_keys(configs)}


def stack(trees: list[PyTree]) -> PyTree:
    """Stacks pytrees of equal structure along a new leading replica axis."""
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *trees)


def unstack(tree: PyTree, index: int) -> PyTree:
    return jax.tree.map(lambda leaf: leaf[index], tree)


def init_states(experiments: list[Experiment]) -> PyTree:
    """The initial state of a run: one experiment's own, or the replicas' stacked (each
    exactly its own seed's)."""
    if len(experiments) == 1:
        return experiments[0].init_state()
    return stack([e.init_state() for e in experiments])


def state_shapes(experiments: list[Experiment]) -> PyTree:
    """The shapes and dtypes of `init_states(experiments)`, computed without running it: the
    template a checkpoint restores into (initialising convolutional models eagerly takes
    seconds)."""
    if jax.process_count() > 1:  # Orbax needs concrete arrays to lay out across processes.
        return init_states(experiments)
    # On the default device, as initialised arrays are: Orbax then restores a checkpoint saved
    # on any number of devices onto this one.
    device = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=device),
                        jax.eval_shape(lambda: init_states(experiments)))


def device_data(experiments: list[Experiment]) -> tuple[PyTree, PyTree]:
    """(data, vmap axes): the dataset's arrays once, with each replica's shuffle key (one
    experiment: its own data, and no axes)."""
    data = experiments[0].device_data()
    if len(experiments) == 1:
        return data, None
    return with_replica_keys(data, [e.stream_key(DATA_STREAM) for e in experiments])


def with_replica_keys(data: PyTree, keys: list[jax.Array]) -> tuple[PyTree, PyTree]:
    """(data, vmap axes): `data` shared by all replicas, but for its shuffle key, replaced by
    `keys` (one per replica) when the dataset has one."""
    axes = jax.tree.map(lambda _: None, data)
    if SHUFFLE_KEY not in data:
        return data, axes
    return {**data, SHUFFLE_KEY: jnp.stack(keys)}, {**axes, SHUFFLE_KEY: 0}


def vmap_multi_step(multi_step: Callable, data_axes: PyTree) -> Callable:
    """`multi_step(state, data, num_steps)` over stacked states (jit with static_argnums=2)."""

    def vmapped(state: PyTree, data: PyTree, num_steps: int):
        return jax.vmap(lambda s, d: multi_step(s, d, num_steps),
                        in_axes=(0, data_axes))(state, data)

    return vmapped


def run_step(experiments: list[Experiment], data_axes: PyTree) -> Callable:
    """The run's `multi_step(state, data, num_steps)`: one experiment's, or vmapped over the
    replicas' stacked states (and their differing scalars)."""
    values = replica_values(experiments) if len(experiments) > 1 else {}
    if not values:
        multi_step = make_multi_step(experiments[0].train_step())
        return multi_step if len(experiments) == 1 else vmap_multi_step(multi_step, data_axes)
    configs = [e.config for e in experiments]
    template = experiments[0].for_config(vectorise.structure_config(configs, list(values)))

    def vmapped(state: PyTree, data: PyTree, num_steps: int):
        def one(s, d, v):
            return make_multi_step(template.train_step(v))(s, d, num_steps)

        return jax.vmap(one, in_axes=(0, data_axes, 0))(state, data, values)

    return vmapped
