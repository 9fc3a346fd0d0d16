"""The pure train step: n_disc discriminator updates, then one generator update.

`make_train_step` closes over the models, the loss and the two optimizers and returns
`step(state, data) -> (state, metrics)`; it knows nothing of files or hosts. `data` is the
dataset's device-resident pytree (empty for synthetic data), and real batches are drawn from it
on device, so no data moves between host and device per step. `make_multi_step` fuses several
steps into one compiled call with `lax.scan`, so small models are not throttled by Python
dispatch.

Key schedule: the key of step t is fold_in(state.rng, t), split into one key per discriminator
update (each split again for real data, latents and the gradient penalty) and one for the
generator update. Discriminator update i of step t reads real batch number t * n_disc + i.
Nothing depends on how steps are grouped into calls, so a resumed run draws exactly the
numbers, and sees exactly the batches, of the uninterrupted one.

Conditioning: a real batch is a mapping of named arrays, `x` (what D judges) and, for labelled
data, `label`. A class-conditional step (`num_classes > 0`) gives D the real batch's labels
with the real examples, and makes each fake for a label that is either drawn uniformly (from
fold_in(latent key, 1)) or the real batch's (`fake_labels`); G's update uses fresh uniform
labels, or the last real batch's. Unconditional steps draw exactly what they drew before.
A discriminator with a class head returns {"logit", "class_logits"}; its cross-entropy is
added, weighted by `class_weight`, to D's loss (real and fake) and G's (fake).

Generators that draw per-example randomness (`takes_example_keys`, e.g. StyleGAN's noise and
style mixing) get one key per example of the global batch, split from fold_in(latent key,
EXAMPLE_KEY_STREAM), and keep their rows, so a pmapped run draws what a plain one does.
Lazy R1 (`r1_interval` k > 1) adds k times the penalty on D updates whose batch number is a
multiple of k, chosen by `lax.cond` inside the compiled step.

Path-length regularisation (StyleGAN2; `pl_weight` > 0, style-based generators only) adds to
G's loss, on steps that are multiples of `pl_interval` and times that interval, the squared
deviation of |J_w^T y| from its running mean a, where J_w is the Jacobian of the images with
respect to ws and y is Gaussian noise scaled by 1/sqrt(pixels per channel). It draws
batch_size / pl_batch_shrink fresh latents (style-mixed as in training) from
fold_in(G key, PATH_LENGTH_STREAM). a decays towards each batch's mean length at rate
`pl_decay`, and lives in the G state under PATH_LENGTH_STATE, so it is checkpointed and a
resumed run continues exactly; the generator never sees it.

Unrolled GAN (`unroll_steps` k > 0, Metz et al. 2017): G's loss is taken against D after k
more of D's optimizer updates, made on the real batch of the step's last D update and G's own
fake batch, and G's gradient flows through those updates (they are not applied to D). The
unrolled updates use D's loss alone, without penalties, augmentation or labels.

Packing (`packing` m > 1, PacGAN): D reads m consecutive examples of this device's rows at a
time, concatenated along their last axis (see gan_jax.packing), after any augmentation; the
penalties act on packs, with interpolation and perturbation drawn per pack.

DRAGAN perturbs the real batch with draws from fold_in(penalty key, DRAGAN_STREAM), scaled by
the standard deviation of the global batch, so it is the same whatever the device count.

DiffAugment (`diff_augment`): every image D sees, real, fake or interpolated for a penalty, is
augmented with parameters drawn from fold_in(update key, AUGMENT_STREAM), folded with 0 for
real, 1 for fake and 2 for penalty inputs; penalties are taken through the augmentation.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import linen as nn

from gan_jax import augment
from gan_jax import losses as losses_lib
from gan_jax.models.latent import sample_latent
from gan_jax.packing import pack, unpack
from gan_jax.state import GANState, ema_decay_at

Array = jax.Array
Metrics = dict[str, Array]
PyTree = Any
# sample_real(data, key, batch_index, num) -> {"x": [num, ...], "label": [num] if labelled}.
SampleFn = Callable[[PyTree, Array, Array, int], dict[str, Array]]
# Where uniformly drawn fake labels come from: this stream of the latent key.
LABEL_STREAM = 1
# Where DiffAugment's parameters come from: this stream of an update's key.
AUGMENT_STREAM = 2
# Where per-example generator keys come from: this stream of the latent key.
EXAMPLE_KEY_STREAM = 2
# Where DRAGAN's perturbations come from: this stream of a D update's penalty key.
DRAGAN_STREAM = 1
# Where path-length regularisation draws from: this stream of the G update's key.
PATH_LENGTH_STREAM = 3
# The G state entry holding the running mean path length, {"mean": scalar}, when regularised.
PATH_LENGTH_STATE = "path_length"


@dataclasses.dataclass(frozen=True)
class StepSettings:
    """The static numbers the step is compiled with."""

    batch_size: int
    n_disc: int
    latent_dim: int
    latent_dist: str
    gp_weight: float
    r1_weight: float
    ema_decay: float
    # StyleGAN2-ADA's EMA ramp-up (0: off), see gan_jax.state.ema_decay_at.
    ema_rampup: float = 0.0
    # Lazy R1: the penalty (times the interval) on every r1_interval-th D update.
    r1_interval: int = 1
    # Unrolled GAN: G's loss is taken against D after this many more of its updates.
    unroll_steps: int = 0
    # PacGAN: D judges packs of this many examples (1: single examples).
    packing: int = 1
    # DRAGAN: its weight, and the perturbation's size in standard deviations of the data.
    dragan_weight: float = 0.0
    dragan_scale: float = 0.5
    # Path-length regularisation of a style-based G (0: off), lazy like R1.
    pl_weight: float = 0.0
    pl_interval: int = 1
    pl_decay: float = 0.01
    pl_batch_shrink: int = 1
    # Under pmap: the device axis and the number of devices the global batch is split over.
    axis_name: str | None = None
    num_replicas: int = 1
    # Under a mesh: the sharding each batch-sized array is constrained to (rows over devices).
    batch_sharding: Any = None
    # Average BatchNorm running statistics over devices after each update (per-device BN).
    sync_model_state: bool = False
    # Class conditioning: 0 for an unconditional GAN.
    num_classes: int = 0
    fake_labels: str = "uniform"
    class_weight: float = 1.0
    # DiffAugment operations applied to every image D sees (see gan_jax.augment).
    diff_augment: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: Any, plan: Any = None, num_classes: int = 0) -> StepSettings:
        return cls(
            batch_size=config.train.batch_size,
            n_disc=config.train.n_disc,
            latent_dim=config.model.latent_dim,
            latent_dist=config.model.latent_dist,
            gp_weight=float(config.loss.gp_weight),
            r1_weight=float(config.loss.r1_weight),
            r1_interval=config.loss.r1_interval,
            packing=config.model.packing,
            unroll_steps=config.train.unroll_steps,
            dragan_weight=float(config.loss.dragan_weight),
            dragan_scale=float(config.loss.dragan_scale),
            pl_weight=float(config.loss.pl_weight),
            pl_interval=config.loss.pl_interval,
            pl_decay=float(config.loss.pl_decay),
            pl_batch_shrink=config.loss.pl_batch_shrink,
            ema_decay=float(config.train.ema_decay),
            ema_rampup=float(config.train.ema_rampup),
            num_classes=num_classes,
            fake_labels=config.model.fake_labels,
            class_weight=float(config.loss.class_weight),
            diff_augment=augment.parse_policy(config.train.diff_augment),
            **parallel_settings(plan),
        )


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


def parallel_settings(plan: Any) -> dict[str, Any]:
    """The device fields of a step's settings under `plan` (none on one device)."""
    if plan is not None and plan.mode == "mesh":
        return dict(batch_sharding=plan.batch_sharding())  # XLA splits the rows.
    if plan is None or plan.axis_name is None:
        return {}
    return dict(axis_name=plan.axis_name, num_replicas=plan.num_replicas,
                sync_model_state=not plan.cross_replica_bn)


def example_keys(latent_key: Array, num: int) -> Array:
    """One PRNG key per example of a batch drawn with `latent_key`."""
    return jax.random.split(jax.random.fold_in(latent_key, EXAMPLE_KEY_STREAM), num)


def split_outputs(outputs: Any) -> tuple[Array, Array | None]:
    """A discriminator's (logits, class logits or None)."""
    if isinstance(outputs, dict):
        return outputs["logit"], outputs.get("class_logits")
    return outputs, None


def device_rows(x: Array, settings: StepSettings) -> Array:
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


def with_path_length_state(g_state: PyTree) -> PyTree:
    """`g_state` with the running mean path length of path-length regularisation (at 0)."""
    return {**g_state, PATH_LENGTH_STATE: {"mean": jnp.zeros((), jnp.float32)}}


def make_train_step(
    generator: nn.Module,
    discriminator: nn.Module,
    loss: losses_lib.GANLoss,
    g_tx: optax.GradientTransformation,
    d_tx: optax.GradientTransformation,
    settings: StepSettings,
    sample_real: SampleFn,
) -> Callable[[GANState], tuple[GANState, Metrics]]:
    """Builds the pure function `step(state, data) -> (new_state, metrics)`.

    Under pmap (`settings.axis_name`), every device draws the global batch's latents and real
    batch from the same keys and keeps its own rows, so example j sees the same noise and data
    whatever the device count; gradients, metrics and (if `sync_model_state`) BatchNorm
    running statistics are averaged over devices.
    """
    s = settings
    parallel = s.axis_name is not None
    local_rows = functools.partial(device_rows, settings=s)

    def mean_over_devices(tree):
        return jax.lax.pmean(tree, s.axis_name) if parallel else tree

    def global_std(x):
        """The standard deviation of all elements of the global batch's `x`."""
        mean = mean_over_devices(jnp.mean(x))
        mean_square = mean_over_devices(jnp.mean(jnp.square(x)))
        return jnp.sqrt(jnp.maximum(mean_square - jnp.square(mean), 0.0))

    def sync_state(model_state):
        return mean_over_devices(model_state) if s.sync_model_state else model_state

    conditional = s.num_classes > 0

    def augmented(x, key, stream):
        """`x` with DiffAugment applied, its parameters drawn for the global batch."""
        if not s.diff_augment:
            return x
        key = jax.random.fold_in(jax.random.fold_in(key, AUGMENT_STREAM), stream)
        params = augment.draw(s.diff_augment, key, s.batch_size, x.shape[1:])
        return augment.apply(x, jax.tree.map(local_rows, params))

    def judged(x, key, stream):
        """What D reads of a batch: augmented, then packed."""
        return pack(augmented(x, key, stream), s.packing)

    takes_keys = getattr(generator, "takes_example_keys", False)

    def generate(g_params, g_state, key, labels):
        z = local_rows(sample_latent(key, s.batch_size, s.latent_dim, s.latent_dist))
        keys = None
        if takes_keys:
            keys = local_rows(example_keys(key, s.batch_size))
        return apply_model(generator, g_params, g_state, z, True, labels, keys=keys)

    def path_length_penalty(params, g_state, key, mean_length):
        """(mean squared deviation of this device's path lengths from the updated running
        mean, that updated mean)."""
        num = s.batch_size // s.pl_batch_shrink
        latent_key, noise_key = jax.random.split(key)
        z = local_rows(sample_latent(latent_key, num, s.latent_dim, s.latent_dist))
        keys = local_rows(example_keys(latent_key, num))
        variables = {"params": params, **g_state}
        ws = generator.apply(variables, z, keys,
                             method=lambda g, z, keys: g.mix(g.map(z), z, keys))
        images, pullback = jax.vjp(
            lambda ws: generator.apply(variables, ws, keys, method="synthesize"), ws)
        pixels = images.shape[1] * images.shape[2]
        noise = local_rows(jax.random.normal(noise_key, (num, *images.shape[1:]),
                                             images.dtype)) / jnp.sqrt(pixels)
        (w_grads,) = pullback(noise)
        lengths = jnp.sqrt(jnp.mean(jnp.sum(jnp.square(w_grads), axis=2), axis=1))
        batch_length = mean_over_devices(jnp.mean(lengths))
        mean_length = mean_length + s.pl_decay * (jax.lax.stop_gradient(batch_length)
                                                  - mean_length)
        return jnp.mean(jnp.square(lengths - mean_length)), mean_length

    def path_length_term(params, g_state, key, mean_length, step_number):
        """(G's path-length loss term, the running mean path length after this step)."""

        def regularise():
            penalty, new_mean = path_length_penalty(params, g_state, key, mean_length)
            return s.pl_weight * s.pl_interval * penalty, new_mean

        if s.pl_interval == 1:
            return regularise()
        return jax.lax.cond(step_number % s.pl_interval == 0, regularise,
                            lambda: (jnp.zeros((), jnp.float32), mean_length))

    def unrolled(d_params, d_opt_state, d_state, real, fake):
        """D's parameters after `unroll_steps` more of its updates on (real, fake), each a
        differentiable function of `fake` (so of G's parameters)."""
        for _ in range(s.unroll_steps):

            def d_loss_fn(params):
                real_out = apply_model(discriminator, params, d_state, pack(real, s.packing),
                                       True)[0]
                fake_out = apply_model(discriminator, params, d_state, pack(fake, s.packing),
                                       True)[0]
                return loss.d_loss(split_outputs(real_out)[0], split_outputs(fake_out)[0])

            grads = mean_over_devices(jax.grad(d_loss_fn)(d_params))
            updates, d_opt_state = d_tx.update(grads, d_opt_state, d_params)
            d_params = optax.apply_updates(d_params, updates)
        return d_params

    def uniform_labels(key):
        """This device's rows of labels drawn uniformly for the global batch."""
        return local_rows(jax.random.randint(jax.random.fold_in(key, LABEL_STREAM),
                                             (s.batch_size,), 0, s.num_classes))

    def class_terms(class_logits, labels):
        if class_logits is None:
            return jnp.zeros((), jnp.float32), None
        accuracy = jnp.mean(jnp.argmax(class_logits, axis=-1) == labels)
        return losses_lib.classification_loss(class_logits, labels), accuracy

    def d_update(carry, data, key, batch_index):
        d_params, d_state, d_opt_state, g_state, g_params = carry
        real_key, z_key, penalty_key = jax.random.split(key, 3)
        if parallel:  # Penalty interpolation noise is drawn per device.
            penalty_key = jax.random.fold_in(penalty_key, jax.lax.axis_index(s.axis_name))
        batch = sample_real(data, real_key, batch_index, s.batch_size)
        real = local_rows(batch["x"])
        real_labels = fake_labels = None
        if conditional:
            real_labels = local_rows(batch["label"])
            fake_labels = real_labels if s.fake_labels == "real" else uniform_labels(z_key)
        fake, g_state = generate(g_params, g_state, z_key, fake_labels)
        fake = jax.lax.stop_gradient(fake)

        def d_loss_fn(params):
            real_out, new_state = apply_model(discriminator, params, d_state,
                                              judged(real, key, 0), True, real_labels)
            fake_out, new_state = apply_model(discriminator, params, new_state,
                                              judged(fake, key, 1), True, fake_labels)
            (real_logits, real_class), (fake_logits, fake_class) = (
                split_outputs(real_out), split_outputs(fake_out))
            adversarial = loss.d_loss(real_logits, fake_logits)
            penalty = jnp.zeros((), jnp.float32)
            class_loss, class_accuracy = class_terms(real_class, real_labels)

            def critic(packs):
                """D's logits for packs (single examples without packing)."""
                out = apply_model(discriminator, params, d_state,
                                  judged(unpack(packs, s.packing), key, 2), True,
                                  real_labels)[0]
                return split_outputs(out)[0]

            real_packs, fake_packs = pack(real, s.packing), pack(fake, s.packing)
            if s.gp_weight:
                penalty += s.gp_weight * losses_lib.gradient_penalty(
                    critic, real_packs, fake_packs, penalty_key
                )
            if s.dragan_weight:
                penalty += s.dragan_weight * losses_lib.dragan_penalty(
                    critic, real_packs, jax.random.fold_in(penalty_key, DRAGAN_STREAM),
                    s.dragan_scale, global_std(real))
            if s.r1_weight and s.r1_interval == 1:
                penalty += 0.5 * s.r1_weight * losses_lib.r1_penalty(critic, real_packs)
            elif s.r1_weight:  # Lazy: k times the penalty on every k-th D update.
                penalty += jax.lax.cond(
                    batch_index % s.r1_interval == 0,
                    lambda: 0.5 * s.r1_weight * s.r1_interval
                    * losses_lib.r1_penalty(critic, real_packs),
                    lambda: jnp.zeros((), jnp.float32))
            total = adversarial + penalty
            if real_class is not None:  # AC-GAN: D classifies real and fake examples.
                class_loss += class_terms(fake_class, fake_labels)[0]
                total += s.class_weight * class_loss
            return total, (new_state, adversarial, penalty, real_logits, fake_logits,
                           class_loss, class_accuracy)

        grads, (d_state, adversarial, penalty, real_logits, fake_logits, class_loss,
                class_accuracy) = jax.grad(d_loss_fn, has_aux=True)(d_params)
        grads = mean_over_devices(grads)
        d_state, g_state = sync_state(d_state), sync_state(g_state)
        updates, d_opt_state = d_tx.update(grads, d_opt_state, d_params)
        d_params = optax.apply_updates(d_params, updates)
        metrics = {
            "d_loss": adversarial,
            "d_penalty": penalty,
            "d_real_logit": jnp.mean(real_logits),
            "d_fake_logit": jnp.mean(fake_logits),
            "d_real": jnp.mean(jax.nn.sigmoid(real_logits)),
            "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits)),
            "d_grad_norm": optax.tree_utils.tree_norm(grads),
        }
        if class_accuracy is not None:  # A class head: how well D classifies real examples.
            metrics |= {"d_class_loss": class_loss, "d_real_class_acc": class_accuracy}
        return (d_params, d_state, d_opt_state, g_state, g_params), (metrics, real, real_labels)

    def step(state: GANState, data: PyTree) -> tuple[GANState, Metrics]:
        key = jax.random.fold_in(state.rng, state.step)
        d_keys = jax.random.split(jax.random.fold_in(key, 0), s.n_disc)
        g_key = jax.random.fold_in(key, 1)
        g_state = dict(state.g_state)
        mean_length = (g_state.pop(PATH_LENGTH_STATE)["mean"] if s.pl_weight
                       else jnp.zeros((), jnp.float32))

        # A Python loop, not lax.scan: XLA:CPU runs convolution gradients inside a loop body
        # through a generic path up to 30x slower than in straight-line code.
        carry = (state.d_params, state.d_state, state.d_opt_state, g_state, state.g_params)
        d_metrics = []
        for i in range(s.n_disc):
            carry, (metrics, real, real_labels) = d_update(carry, data, d_keys[i],
                                                     state.step * s.n_disc + i)
            d_metrics.append(metrics)
        d_params, d_state, d_opt_state, g_state, _ = carry
        d_metrics = jax.tree.map(lambda *v: jnp.mean(jnp.stack(v)), *d_metrics)
        g_labels = None
        if conditional:
            g_labels = real_labels if s.fake_labels == "real" else uniform_labels(g_key)

        def g_loss_fn(params):
            fake, new_g_state = generate(params, g_state, g_key, g_labels)
            judge = d_params
            if s.unroll_steps:  # G answers D as it will be after more updates.
                judge = unrolled(d_params, d_opt_state, d_state, real, fake)
            # D's running statistics are updated by D's own steps only.
            fake_out, _ = apply_model(discriminator, judge, d_state,
                                      judged(fake, g_key, 0), True, g_labels)
            fake_logits, fake_class = split_outputs(fake_out)
            g_loss = total = loss.g_loss(fake_logits)
            if fake_class is not None:
                total += s.class_weight * class_terms(fake_class, g_labels)[0]
            penalty, new_mean = jnp.zeros((), jnp.float32), mean_length
            if s.pl_weight:
                penalty, new_mean = path_length_term(
                    params, g_state, jax.random.fold_in(g_key, PATH_LENGTH_STREAM),
                    mean_length, state.step)
            return total + penalty, (new_g_state, fake_logits, g_loss, penalty, new_mean)

        (_, (g_state, fake_logits, g_loss, g_penalty, mean_length)), g_grads = (
            jax.value_and_grad(g_loss_fn, has_aux=True)(state.g_params))
        g_grads = mean_over_devices(g_grads)
        g_state = sync_state(g_state)
        if s.pl_weight:
            g_state = {**g_state, PATH_LENGTH_STATE: {"mean": mean_length}}
        updates, g_opt_state = g_tx.update(g_grads, state.g_opt_state, state.g_params)
        g_params = optax.apply_updates(state.g_params, updates)
        ema_g_params = optax.incremental_update(g_params, state.ema_g_params,
                                                1.0 - ema_decay_at(state.step, s.ema_decay,
                                                                   s.ema_rampup))

        metrics = mean_over_devices({
            **d_metrics,
            "g_loss": g_loss,
            "g_fake_logit": jnp.mean(fake_logits),
            "g_grad_norm": optax.tree_utils.tree_norm(g_grads),
            **({"g_penalty": g_penalty, "g_path_length": mean_length} if s.pl_weight else {}),
        })
        new_state = state.replace(
            step=state.step + 1,
            g_params=g_params,
            d_params=d_params,
            g_state=g_state,
            d_state=d_state,
            g_opt_state=g_opt_state,
            d_opt_state=d_opt_state,
            ema_g_params=ema_g_params,
        )
        return new_state, metrics

    return step


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
