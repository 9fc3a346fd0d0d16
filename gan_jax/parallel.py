"""How a run spreads over devices: one jitted step, or a pmapped step over all devices.

With `pmap` the global batch `train.batch_size` is split evenly over every device of every
process; the step averages gradients, metrics and (with per-device BatchNorm) running
statistics across devices, so replicas stay identical. State is replicated on the local
devices between steps and unreplicated only for checkpoints, samples and evaluation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from gan_jax.config import ConfigError

AXIS = "devices"


@dataclasses.dataclass(frozen=True)
class ParallelPlan:
    mode: str  # "jit" or "pmap"
    num_replicas: int  # Devices over all processes (1 for jit).
    cross_replica_bn: bool

    @property
    def axis_name(self) -> str | None:
        return AXIS if self.mode == "pmap" else None

    @property
    def bn_axis_name(self) -> str | None:
        return AXIS if self.mode == "pmap" and self.cross_replica_bn else None


def plan_from_config(train_config: Any) -> ParallelPlan:
    """Resolves `train.parallel` ("auto": pmap when there is more than one device) and checks
    that the global batch divides over the devices, before anything compiles."""
    mode, batch_norm = train_config.parallel, train_config.batch_norm  # Validated names.
    num_devices = jax.device_count()
    if mode == "auto":
        mode = "pmap" if num_devices > 1 else "jit"
    if mode == "jit" and jax.process_count() > 1:
        raise ConfigError("train.parallel: 'jit' runs on one device, but this run has "
                          f"{jax.process_count()} processes; use 'pmap' or 'auto'")
    replicas = num_devices if mode == "pmap" else 1
    if train_config.batch_size % replicas:
        raise ConfigError(f"train.batch_size={train_config.batch_size} does not divide evenly "
                          f"over {replicas} devices; use a multiple of {replicas}")
    return ParallelPlan(mode, replicas, batch_norm == "cross_replica")


def _from_local_copies(x: Any, stacked: bool) -> jax.Array:
    """A global array over all devices of all processes, assembled from copies of this
    process's `x` put directly on each local device (no device ever holds them all):
    stacked along a leading device axis, or replicated."""
    devices = jax.devices()
    x = jnp.asarray(x)
    spec = PartitionSpec(AXIS) if stacked else PartitionSpec()
    sharding = NamedSharding(Mesh(np.array(devices), (AXIS,)), spec)
    piece, shape = (x[None], (len(devices), *x.shape)) if stacked else (x, x.shape)
    copies = [jax.device_put(piece, device) for device in jax.local_devices()]
    return jax.make_array_from_single_device_arrays(shape, sharding, copies)


def replicate(tree: Any) -> Any:
    """A copy of this process's `tree` on each of its devices, as arrays with a leading axis
    over all devices of all processes (what pmap takes)."""
    return jax.tree.map(lambda x: _from_local_copies(x, stacked=True), tree)


def unreplicate(tree: Any) -> Any:
    """This process's first device's copy."""
    return jax.tree.map(lambda x: x.addressable_data(0)[0], tree)


def global_replicated(tree: Any) -> Any:
    """With several processes: host-local arrays (identical on every process) -> arrays
    replicated over all devices of all processes, which Orbax can save. Else unchanged."""
    if jax.process_count() == 1:
        return tree
    return jax.tree.map(lambda x: _from_local_copies(x, stacked=False), tree)


def host_local(tree: Any) -> Any:
    """The inverse of `global_replicated`: this process's first copy of each array."""
    if jax.process_count() == 1:
        return tree
    return jax.tree.map(lambda x: x.addressable_data(0), tree)


def compile_run(multi_step: Callable, plan: ParallelPlan, state: Any,
                data: Any) -> tuple[Callable, Any, Any, Callable]:
    """`multi_step(state, data, num_steps)` jitted, or pmapped over the plan's devices with
    `state` and `data` replicated there; the state is donated. Returns (compiled, state, data,
    host_view), where host_view brings the compiled step's outputs back to one copy."""
    if plan.mode == "pmap":
        compiled = jax.pmap(multi_step, axis_name=AXIS, static_broadcasted_argnums=2,
                            donate_argnums=0)
        return compiled, replicate(state), replicate(data), unreplicate
    compiled = jax.jit(multi_step, static_argnums=2, donate_argnums=0)
    return compiled, state, data, lambda tree: tree
