"""The update skeleton both train steps share: running models, splitting the global batch over
devices, averaging over them, applying optimizer updates, the D-update loop and G's update
with its EMA.

A step's static settings derive from `UpdateSettings`. Under pmap (`axis_name`), every device
draws the global batch's latents and real batch from the same keys and keeps its own rows
(`Devices.rows`), so example j sees the same noise and data whatever the device count;
gradients, metrics and, with `sync_model_state`, BatchNorm running statistics are averaged over
devices. Under a mesh (`batch_sharding`), XLA splits the rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import linen as nn

from gan_jax.training import hyperparameters, schedules
from gan_jax.training.state import GANState, ema_decay_at

Array = jax.Array
Metrics = dict[str, Array]
PyTree = Any
# sample_real(data, key, batch_index, num) -> {"x": [num, ...], "label": [num] if labelled}.
SampleFn = Callable[[PyTree, Array, Array, int], dict[str, Array]]
# Where per-example generator keys come from: this stream of the latent key.
EXAMPLE_KEY_STREAM = 2


@dataclasses.dataclass(frozen=True, kw_only=True)
class UpdateSettings:
    """The static numbers every step is compiled with."""

    batch_size: int
    n_disc: int
    ema_decay: float
    # StyleGAN2-ADA's EMA ramp-up (0: off), see gan_jax.training.state.ema_decay_at.
    ema_rampup: float = 0.0
    # The EMA's half-life in images, in place of ema_decay (0: ema_decay), and its schedule.
    ema_half_life: float = 0.0
    ema_half_life_schedule: Callable[[Array], Array] | None = None
    # BigGAN's EMA start: the EMA copies G for this many G updates first (0: from the start).
    ema_start: int = 0
    # Under pmap: the device axis and the number of devices the global batch is split over.
    axis_name: str | None = None
    num_replicas: int = 1
    # Under a mesh: the sharding each batch-sized array is constrained to (rows over devices).
    batch_sharding: Any = None
    # Average BatchNorm running statistics over devices after each update (per-device BN).
    sync_model_state: bool = False
    # Gradient accumulation: each update averages the gradients of this many micro-batches.
    grad_accum: int = 1


def parallel_settings(plan: Any) -> dict[str, Any]:
    """The device fields of a step's settings under `plan` (none on one device)."""
    if plan is not None and plan.mode == "mesh":
        return dict(batch_sharding=plan.batch_sharding())  # XLA splits the rows.
    if plan is None or plan.axis_name is None:
        return {}
    return dict(axis_name=plan.axis_name, num_replicas=plan.num_replicas,
                sync_model_state=not plan.cross_replica_bn)


def update_settings(config: Any, plan: Any = None,
                    values: hyperparameters.Values | None = None) -> dict[str, Any]:
    """The `UpdateSettings` fields of `config` under `plan` (vectorised scalars: `values`)."""
    return dict(batch_size=config.train.batch_size, n_disc=config.train.n_disc,
                ema_decay=hyperparameters.value(config, "train.ema_decay", values),
                ema_rampup=float(config.train.ema_rampup),
                ema_half_life=float(config.train.ema_half_life),
                ema_half_life_schedule=schedules.configured(config, "ema_half_life", None,
                                                            values),
                ema_start=int(config.train.ema_start),
                grad_accum=int(config.train.grad_accum),
                **parallel_settings(plan))


def ema_decay(settings: UpdateSettings, step: Array) -> Array | float:
    """The EMA decay of the update after `step` steps: `ema_decay`, or 0.5 ** (batch /
    half-life) for a half-life in images (scheduled or not), then ramped up; 0 (a copy of G)
    for the first `ema_start` updates."""
    decay: Array | float = settings.ema_decay
    if settings.ema_half_life:
        half_life = (settings.ema_half_life_schedule(step)
                     if settings.ema_half_life_schedule is not None
                     else jnp.float32(settings.ema_half_life))
        decay = 0.5 ** (settings.batch_size / jnp.maximum(half_life, 1e-8))
    decay = ema_decay_at(step, decay, settings.ema_rampup)
    if settings.ema_start:
        decay = jnp.where(jnp.asarray(step) < settings.ema_start, 0.0, decay)
    return decay


def apply_model(
    module: nn.Module, params: Any, state: Any, inputs: Array, train: bool,
    labels: Array | None = None, dropout_key: Array | None = None,
    keys: Array | None = None,
) -> tuple[Any, Any]:
    """Runs a Linen module on `inputs` (and its condition `labels` when given: class labels,
    or an input image), with `dropout_key` feeding its dropout and `keys` (one per example)
    its per-example randomness; in train mode returns its updated non-parameter
    collections."""
    variables = {"params": params, **state}
    args = (inputs,) if labels is None else (inputs, labels)
    kwargs: dict[str, Any] = {} if dropout_key is None else {"rngs": {"dropout": dropout_key}}
    if keys is not None:
        kwargs["keys"] = keys
    if train and state:
        outputs, new_state = module.apply(variables, *args, train=True, mutable=list(state),
                                          **kwargs)
        return outputs, dict(new_state)
    return module.apply(variables, *args, train=train, **kwargs), state


def example_keys(latent_key: Array, num: int) -> Array:
    """One PRNG key per example of a batch drawn with `latent_key`."""
    return jax.random.split(jax.random.fold_in(latent_key, EXAMPLE_KEY_STREAM), num)


def split_outputs(outputs: Any) -> tuple[Array, Array | None]:
    """A discriminator's (logits, class logits or None)."""
    if isinstance(outputs, dict):
        return outputs["logit"], outputs.get("class_logits")
    return outputs, None


def device_rows(x: Array, settings: UpdateSettings) -> Array:
    """This device's rows of an array over a global batch of n: rows [i*b, (i+1)*b) on device
    i of the step's axis, b = n / num_replicas; under a mesh, all of `x` with its rows laid
    out that way over the devices; all of `x` on one device."""
    if settings.batch_sharding is not None:
        return jax.lax.with_sharding_constraint(x, settings.batch_sharding)
    if settings.axis_name is None:
        return x
    per_device = x.shape[0] // settings.num_replicas
    start = jax.lax.axis_index(settings.axis_name) * per_device
    return jax.lax.dynamic_slice_in_dim(x, start, per_device)


def micro_batch(x: Array, micro: Array | None, num: int) -> Array:
    """Micro-batch `micro` of `num` of x's rows (all of `x` for None)."""
    if micro is None:
        return x
    size = x.shape[0] // num
    return jax.lax.dynamic_slice_in_dim(x, micro * size, size)


class Devices:
    """A step's view of the devices it runs on: rows, means and state sync."""

    def __init__(self, settings: UpdateSettings):
        self.settings = settings
        self.parallel = settings.axis_name is not None

    def rows(self, x: Array, micro: Array | None = None) -> Array:
        """This device's rows of a global-batch array (of micro-batch `micro` when given)."""
        s = self.settings
        if s.batch_sharding is not None:  # Under a mesh the micro-batch is sliced first.
            return device_rows(micro_batch(x, micro, s.grad_accum), s)
        return micro_batch(device_rows(x, s), micro, s.grad_accum)

    def rows_of(self, micro: Array | None) -> Callable[[Array], Array]:
        """`rows` of micro-batch `micro`."""
        return lambda x: self.rows(x, micro)

    def micro(self, x: Array | None, micro: Array | None) -> Array | None:
        """Micro-batch `micro` of an array of this device's rows."""
        if x is None or micro is None:
            return x
        x = micro_batch(x, micro, self.settings.grad_accum)
        if self.settings.batch_sharding is not None:  # Its rows stay laid out over the mesh.
            x = device_rows(x, self.settings)
        return x

    def mean(self, tree: Any) -> Any:
        return jax.lax.pmean(tree, self.settings.axis_name) if self.parallel else tree

    def sync(self, model_state: Any) -> Any:
        """BatchNorm running statistics averaged over devices, when they are kept per device."""
        return self.mean(model_state) if self.settings.sync_model_state else model_state

    def index(self) -> Array:
        return jax.lax.axis_index(self.settings.axis_name)


def apply_gradients(tx: optax.GradientTransformation, grads: Any, opt_state: Any,
                    params: Any) -> tuple[Any, Any]:
    """(params after one optimizer update with `grads`, the new optimizer state)."""
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state


def accumulate(fn: Callable[[Array | None], tuple[Any, Any]], num: int) -> tuple[Any, Any]:
    """`fn(m) -> (grads, extras)` on micro-batches m = 0 .. num - 1, one after another:
    (the mean of their gradients, their extras stacked along a new leading axis; merge them
    with `merged_mean` and `merged_rows`). With num == 1, `fn(None)` on the whole batch, its
    extras as they are."""
    if num == 1:
        return fn(None)

    def body(total, micro):
        grads, extras = fn(micro)
        return jax.tree.map(jnp.add, total, grads), extras

    shapes = jax.eval_shape(lambda: fn(jnp.int32(0))[0])
    zeros = jax.tree.map(lambda a: jnp.zeros(a.shape, a.dtype), shapes)
    total, extras = jax.lax.scan(body, zeros, jnp.arange(num))
    return jax.tree.map(lambda g: g / num, total), extras


def merged_mean(stacked: Any, num: int) -> Any:
    """`num` stacked micro-batch values (states, scalars) merged: floats averaged, others
    (counters) taken from the last; unstacked values (num == 1) as they are."""
    if num == 1:
        return stacked
    return jax.tree.map(lambda a: jnp.mean(a, axis=0).astype(a.dtype)
                        if jnp.issubdtype(a.dtype, jnp.floating) else a[-1], stacked)


def merged_rows(stacked: Any, num: int) -> Any:
    """`num` stacked micro-batch rows (logits, examples) joined back into the device's batch;
    unstacked rows (num == 1) as they are."""
    if num == 1:
        return stacked
    return jax.tree.map(lambda a: a.reshape(-1, *a.shape[2:]), stacked)


def d_metrics(adversarial: Array, real_logits: Array, fake_logits: Array, grads: Any,
              **extra: Array) -> Metrics:
    """What every D update logs: its adversarial loss, `extra` terms, D's mean logits and
    probabilities on real and fake examples, and its gradient norm."""
    return {
        "d_loss": adversarial,
        **extra,
        "d_real_logit": jnp.mean(real_logits),
        "d_fake_logit": jnp.mean(fake_logits),
        "d_real": jnp.mean(jax.nn.sigmoid(real_logits)),
        "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits)),
        "d_grad_norm": optax.tree_utils.tree_norm(grads),
    }


def run_d_updates(d_update: Callable, carry: Any, data: PyTree, key: Array, step: Array,
                  n_disc: int) -> tuple[Any, Any, Metrics]:
    """`n_disc` D updates: update i gets split i of fold_in(key, 0) and real batch number
    step * n_disc + i. Returns (the carry after them, the last update's extras, their mean
    metrics). `d_update(carry, data, key, batch_index) -> (carry, (metrics, extras))`."""
    d_keys = jax.random.split(jax.random.fold_in(key, 0), n_disc)
    # A Python loop, not lax.scan: XLA:CPU runs convolution gradients inside a loop body
    # through a generic path up to 30x slower than in straight-line code.
    all_metrics, extras = [], None
    for i in range(n_disc):
        carry, (metrics, extras) = d_update(carry, data, d_keys[i], step * n_disc + i)
        all_metrics.append(metrics)
    return carry, extras, jax.tree.map(lambda *v: jnp.mean(jnp.stack(v)), *all_metrics)


def finish_step(state: GANState, settings: UpdateSettings, devices: Devices,
                g_tx: optax.GradientTransformation, g_grads: Any, g_state: Any,
                d_parts: tuple[Any, Any, Any], metrics: Callable[[Any], Metrics],
                g_extra_state: dict[str, Any] | None = None) -> tuple[GANState, Metrics]:
    """The end of every step: G's gradients averaged over devices and applied, its model state
    synced (then joined by `g_extra_state`, e.g. regulariser state), the EMA generator moved,
    and the state advanced with D's `d_parts` (params, model state, optimizer state).
    `metrics(averaged G gradients)` gives the step's metrics, averaged over devices."""
    g_grads = devices.mean(g_grads)
    g_state = devices.sync(g_state)
    if g_extra_state:
        g_state = {**g_state, **g_extra_state}
    g_params, g_opt_state = apply_gradients(g_tx, g_grads, state.g_opt_state, state.g_params)
    ema_g_params = optax.incremental_update(
        g_params, state.ema_g_params,
        1.0 - ema_decay(settings, state.step))
    d_params, d_state, d_opt_state = d_parts
    new_state = state.replace(
        step=state.step + 1, g_params=g_params, d_params=d_params, g_state=g_state,
        d_state=d_state, g_opt_state=g_opt_state, d_opt_state=d_opt_state,
        ema_g_params=ema_g_params)
    return new_state, devices.mean(metrics(g_grads))


def make_multi_step(
    step: Callable[[GANState, PyTree], tuple[GANState, Metrics]],
) -> Callable[[GANState, PyTree, int], tuple[GANState, Metrics]]:
    """`multi_step(state, data, num_steps)` runs `num_steps` steps in one call (jit it with
    `static_argnums=2`). Metrics are averaged over those steps; `finite` is 1.0 when every
    loss and gradient norm in them was finite.

    One step per call compiles the step as straight-line code; prefer it for convolutional
    models on CPU, where XLA runs convolution gradients inside a loop body much more slowly.
    """

    def multi_step(state: GANState, data: PyTree, num_steps: int) -> tuple[GANState, Metrics]:
        if num_steps == 1:
            state, metrics = step(state, data)
        else:
            state, metrics = jax.lax.scan(lambda st, _: step(st, data), state, None,
                                          length=num_steps)
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(v)) for v in metrics.values()]))
        metrics = jax.tree.map(jnp.mean, metrics)
        metrics["finite"] = finite.astype(jnp.float32)
        return state, metrics

    return multi_step
