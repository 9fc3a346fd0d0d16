"""How a run spreads over devices: one jitted step, a pmapped step, or a step jitted over a
mesh of all devices.

With `pmap` the global batch `train.batch_size` is split evenly over every device of every
process; the step averages gradients, metrics and (with per-device BatchNorm) running
statistics across devices, so replicas stay identical. State is replicated on the local
devices between steps and unreplicated only for checkpoints, samples and evaluation.

With `mesh` the step is the one-device program, jitted over a 1-D `jax.sharding.Mesh` of every
device of every process: the step constrains each batch-sized array to be split over the
mesh (`batch_sharding`), and XLA partitions the computation and inserts the reductions. The
state is replicated, or with `train.shard_params` split along one axis of each large array
(FSDP-style: XLA gathers parameters where they are used).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from gan_jax.config import ConfigError

AXIS = "devices"
# Under train.shard_params, arrays with fewer elements than this stay replicated: splitting
# them saves little memory and costs a gather each.
MIN_SHARDED_SIZE = 2**14


@dataclasses.dataclass(frozen=True)
class ParallelPlan:
    mode: str  # "jit", "pmap", "mesh" or "replicas"
    num_replicas: int  # Devices a batch is split over, all processes (1 for jit, replicas).
    cross_replica_bn: bool
    shard_params: bool = False  # Mesh only.
    # Under "replicas": the devices a vectorised run's replicas are spread over, whole.
    replica_devices: int = 1

    @property
    def axis_name(self) -> str | None:
        return AXIS if self.mode == "pmap" else None

    @property
    def bn_axis_name(self) -> str | None:
        return AXIS if self.mode == "pmap" and self.cross_replica_bn else None

    def mesh(self) -> Mesh:
        return Mesh(np.array(jax.devices()), (AXIS,))

    def batch_sharding(self) -> NamedSharding | None:
        """Under `mesh`: the sharding of batch-sized arrays (rows split over the devices)."""
        return NamedSharding(self.mesh(), PartitionSpec(AXIS)) if self.mode == "mesh" else None


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
    replicas = num_devices if mode in ("pmap", "mesh") else 1
    if train_config.batch_size % replicas:
        raise ConfigError(f"train.batch_size={train_config.batch_size} does not divide evenly "
                          f"over {replicas} devices; use a multiple of {replicas}")
    return ParallelPlan(mode, replicas, batch_norm == "cross_replica",
                        shard_params=bool(train_config.shard_params),
                        replica_devices=num_devices if mode == "replicas" else 1)


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


def sharded_axis(shape: tuple[int, ...], num_devices: int) -> int | None:
    """The axis `train.shard_params` splits an array of `shape` along: its largest axis that
    divides evenly over the devices, or None (replicated) for a small or indivisible array."""
    if int(np.prod(shape, dtype=np.int64)) < MIN_SHARDED_SIZE:
        return None
    axes = [i for i, size in enumerate(shape) if size % num_devices == 0]
    return max(axes, key=lambda i: (shape[i], -i)) if axes else None


def state_shardings(state: Any, plan: ParallelPlan) -> Any:
    """Each state array's sharding over the plan's mesh: replicated, or split along
    `sharded_axis` under `shard_params`."""
    mesh, num_devices = plan.mesh(), plan.num_replicas

    def sharding(x):
        axis = sharded_axis(np.shape(x), num_devices) if plan.shard_params else None
        spec = [None] * np.ndim(x)
        if axis is not None:
            spec[axis] = AXIS
        return NamedSharding(mesh, PartitionSpec(*spec))

    return jax.tree.map(sharding, state)


def _global_arrays(tree: Any, shardings: Any) -> Any:
    """Arrays laid out by `shardings` over the devices of every process, from the full host
    copies every process holds (each device receives only its own part)."""

    def put(x, sharding):
        x = np.asarray(x)
        return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])

    return jax.tree.map(put, tree, shardings)


def one_device_copy(tree: Any) -> Any:
    """Mesh arrays (replicated or sharded) as whole arrays on this process's first device."""
    device = jax.local_devices()[0]

    def gather(x):
        if x.is_fully_replicated:
            return jax.device_put(x.addressable_data(0), device)
        if jax.process_count() == 1:
            return jax.device_put(x, device)
        return jax.device_put(multihost_utils.process_allgather(x, tiled=True), device)

    return jax.tree.map(gather, tree)


def place_data(plan: ParallelPlan, data: Any) -> Any:
    """Host arrays where the plan's compiled step reads them: on the device, on every local
    device (pmap), or replicated over the mesh. Asynchronous: returns before the copy ends."""
    if plan.mode == "pmap":
        return replicate(data)
    if plan.mode in ("mesh", "replicas"):
        replicated = NamedSharding(plan.mesh(), PartitionSpec())
        return _global_arrays(data, jax.tree.map(lambda _: replicated, data))
    return jax.device_put(data)


def compile_run(multi_step: Callable, plan: ParallelPlan, state: Any,
                data: Any) -> tuple[Callable, Any, Any, Callable]:
    """`multi_step(state, data, num_steps)` jitted on one device, pmapped over the plan's
    devices with `state` and `data` replicated there, or jitted over the plan's mesh with the
    state laid out by `state_shardings` and the data replicated; the state is donated. Returns
    (compiled, state, data, host_view), where host_view brings the compiled step's outputs
    back to one copy on one device."""
    if plan.mode == "pmap":
        compiled = jax.pmap(multi_step, axis_name=AXIS, static_broadcasted_argnums=2,
                            donate_argnums=0)
        return compiled, replicate(state), place_data(plan, data), unreplicate
    if plan.mode == "mesh":
        shardings = state_shardings(state, plan)
        replicated = NamedSharding(plan.mesh(), PartitionSpec())
        compiled = jax.jit(multi_step, static_argnums=2, donate_argnums=0,
                           out_shardings=(shardings, replicated))
        return compiled, _global_arrays(state, shardings), place_data(plan, data), one_device_copy
    if plan.mode == "replicas":  # Each device trains its share of the replicas, whole.
        by_replica = jax.tree.map(lambda _: NamedSharding(plan.mesh(), PartitionSpec(AXIS)),
                                  state)
        replicated = NamedSharding(plan.mesh(), PartitionSpec())
        compiled = jax.jit(multi_step, static_argnums=2, donate_argnums=0,
                           out_shardings=(by_replica, replicated))
        return (compiled, _global_arrays(state, by_replica), place_data(plan, data),
                one_device_copy)
    compiled = jax.jit(multi_step, static_argnums=2, donate_argnums=0)
    return compiled, state, data, lambda tree: tree
