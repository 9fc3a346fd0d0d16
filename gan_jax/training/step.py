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
Penalties and regularisers are the rows of `gan_jax.training.objective.PENALTIES` that the
config turns on, added in table order. A lazy one (interval k > 1) adds k times its term on
the updates (D's batch number, or G's step) that are multiples of k, chosen by `lax.cond`
inside the compiled step. A regulariser with running state (path length's mean length) keeps
it in its player's model state under its name, so it is checkpointed and a resumed run
continues exactly; the model never sees it.

Unrolled GAN (`unroll_steps` k > 0, Metz et al. 2017): G's loss is taken against D after k
more of D's optimizer updates, made on the real batch of the step's last D update and G's own
fake batch, and G's gradient flows through those updates (they are not applied to D). The
unrolled updates use D's loss alone, without penalties, augmentation or labels.

Packing (`packing` m > 1, PacGAN): D reads m consecutive examples of this device's rows at a
time, concatenated along their last axis (see gan_jax.training.packing), after any augmentation; the
penalties act on packs, with interpolation and perturbation drawn per pack.

A D penalty's key is the update's penalty key (folded with the device index under pmap);
DRAGAN's perturbation is scaled by the standard deviation of the global batch, so it is the
same whatever the device count.

DiffAugment (`diff_augment`): every image D sees, real, fake or interpolated for a penalty, is
augmented with parameters drawn from fold_in(update key, AUGMENT_STREAM), folded with 0 for
real, 1 for fake and 2 for penalty inputs; penalties are taken through the augmentation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import linen as nn

from gan_jax.models.latent import sample_latent
from gan_jax.training import ada, adaptive, augment, hyperparameters, schedules
from gan_jax.training import objective as objective_lib
from gan_jax.training.objective import ActivePenalty, DInputs, GInputs
from gan_jax.training.packing import pack, unpack
from gan_jax.training.state import GANState
from gan_jax.training.update import (
    Devices,
    Metrics,
    PyTree,
    SampleFn,
    UpdateSettings,
    accumulate,
    apply_gradients,
    apply_model,
    d_metrics,
    example_keys,
    finish_step,
    merged_mean,
    merged_rows,
    run_d_updates,
    split_outputs,
    update_settings,
)

# Where uniformly drawn fake labels come from: this stream of the latent key.
LABEL_STREAM = 1
# Where DiffAugment's parameters come from: this stream of an update's key.
AUGMENT_STREAM = 2
# Where ADA's parameters and APA's replacements come from: these streams of an update's key
# (APA's latents: that stream of the D update's latent key).
ADA_STREAM = 5
APA_STREAM = 6
# Where zCR's latent perturbations come from: this stream of the latent key.
ZCR_STREAM = 8


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepSettings(UpdateSettings):
    """The static numbers the GAN step is compiled with."""

    latent_dim: int
    latent_dist: str
    # The penalties and regularisers the config turns on, per player, in table order.
    d_penalties: tuple[ActivePenalty, ...] = ()
    g_penalties: tuple[ActivePenalty, ...] = ()
    # Unrolled GAN: G's loss is taken against D after this many more of its updates.
    unroll_steps: int = 0
    # PacGAN: D judges packs of this many examples (1: single examples).
    packing: int = 1
    # Class conditioning: 0 for an unconditional GAN.
    num_classes: int = 0
    fake_labels: str = "uniform"
    class_weight: float = 1.0
    # DiffAugment operations applied to every image D sees (see gan_jax.training.augment).
    diff_augment: tuple[str, ...] = ()
    # ADA's transforms (gan_jax.training.ada) and the probabilities of ADA and APA.
    ada_pipeline: tuple[str, ...] = ()
    ada: adaptive.Controller | None = None
    apa: adaptive.Controller | None = None

    @property
    def controllers(self) -> tuple[adaptive.Controller, ...]:
        return tuple(c for c in (self.ada, self.apa) if c is not None)

    @classmethod
    def from_config(cls, config: Any, plan: Any = None, num_classes: int = 0,
                    values: hyperparameters.Values | None = None) -> StepSettings:
        """The settings of `config`; a vectorised run's per-replica scalars come from
        `values` ({dotted key: traced value}), its structure from `config`."""
        weight_schedules = {name: ramp for name in schedules.SCHEDULED
                            if name in config.loss
                            and (ramp := schedules.configured(config, name, None, values))
                            is not None}
        weights = hyperparameters.section_values(values, "loss")
        pipeline = ada.parse_pipeline(config.ada.pipeline)
        return cls(
            latent_dim=config.model.latent_dim,
            latent_dist=config.model.latent_dist,
            d_penalties=objective_lib.active_penalties(config.loss, "d", weight_schedules,
                                                       weights),
            g_penalties=objective_lib.active_penalties(config.loss, "g", weight_schedules,
                                                       weights),
            packing=config.model.packing,
            unroll_steps=config.train.unroll_steps,
            num_classes=num_classes,
            fake_labels=config.model.fake_labels,
            class_weight=hyperparameters.value(config, "loss.class_weight", values),
            diff_augment=augment.parse_policy(config.train.diff_augment),
            ada_pipeline=pipeline,
            ada=controller(config, "ada", values) if pipeline else None,
            apa=controller(config, "apa", values) if applies(config, "apa") else None,
            **update_settings(config, plan, values),
        )


def applies(config: Any, name: str) -> bool:
    """Whether the probability `name` (ada or apa) can be non-zero."""
    return bool(config[name].p or config[name].target
                or not schedules.is_off(config.schedules[f"{name}_p"]))


def controller(config: Any, name: str,
               values: hyperparameters.Values | None = None) -> adaptive.Controller:
    cfg = config[name]
    return adaptive.Controller(name, hyperparameters.value(config, f"{name}.p", values),
                               hyperparameters.value(config, f"{name}.target", values),
                               cfg.interval, float(cfg.kimg), config.train.batch_size,
                               schedules.configured(config, f"{name}_p", None, values),
                               adaptive=cfg.target > 0)


def make_train_step(
    generator: nn.Module,
    discriminator: nn.Module,
    loss: objective_lib.GANLoss,
    g_tx: optax.GradientTransformation,
    d_tx: optax.GradientTransformation,
    settings: StepSettings,
    sample_real: SampleFn,
) -> Callable[[GANState, PyTree], tuple[GANState, Metrics]]:
    """Builds the pure function `step(state, data) -> (new_state, metrics)` (see
    gan_jax.training.update for how it splits the batch over devices)."""
    s = settings
    devices = Devices(s)
    local_rows = devices.rows

    def global_std(x):
        """The standard deviation of all elements of the global batch's `x`."""
        mean = devices.mean(jnp.mean(x))
        mean_square = devices.mean(jnp.mean(jnp.square(x)))
        return jnp.sqrt(jnp.maximum(mean_square - jnp.square(mean), 0.0))

    conditional = s.num_classes > 0

    def augmented(x, key, stream, p, rows):
        """`x` (the `rows` of a global batch) with ADA (at probability p["ada"]) or DiffAugment
        applied, their parameters drawn for the global batch."""
        if s.ada_pipeline:
            ada_key = jax.random.fold_in(jax.random.fold_in(key, ADA_STREAM), stream)
            params = ada.draw(s.ada_pipeline, ada_key, p["ada"], s.batch_size, x.shape[1:])
            x = ada.apply(x, jax.tree.map(rows, params))
        if not s.diff_augment:
            return x
        key = jax.random.fold_in(jax.random.fold_in(key, AUGMENT_STREAM), stream)
        params = augment.draw(s.diff_augment, key, s.batch_size, x.shape[1:])
        return augment.apply(x, jax.tree.map(rows, params))

    def judged(x, key, stream, p, rows):
        """What D reads of a batch: augmented, then packed."""
        return pack(augmented(x, key, stream, p, rows), s.packing)

    def probabilities(controls, step):
        """{name: p} of ADA and APA at train step `step`."""
        return {c.name: c.value(controls.get(c.name), step) for c in s.controllers}

    takes_keys = getattr(generator, "takes_example_keys", False)

    def latents(key, num, rows=local_rows):
        return rows(sample_latent(key, num, s.latent_dim, s.latent_dist))

    def generate(g_params, g_state, key, labels, rows, sigma=0.0):
        """The `rows` of a global batch of fakes, from latents drawn with `key` (perturbed by
        sigma * N(0, 1) for zCR)."""
        z = latents(key, s.batch_size, rows)
        if sigma:
            z = z + sigma * rows(jax.random.normal(
                jax.random.fold_in(key, ZCR_STREAM), (s.batch_size, s.latent_dim)))
        keys = None
        if takes_keys:
            keys = rows(example_keys(key, s.batch_size))
        return apply_model(generator, g_params, g_state, z, True, labels, keys=keys)

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

            grads = devices.mean(jax.grad(d_loss_fn)(d_params))
            d_params, d_opt_state = apply_gradients(d_tx, grads, d_opt_state, d_params)
        return d_params

    def uniform_labels(key, rows=local_rows):
        """The `rows` of labels drawn uniformly for the global batch."""
        return rows(jax.random.randint(jax.random.fold_in(key, LABEL_STREAM),
                                             (s.batch_size,), 0, s.num_classes))

    def class_terms(class_logits, labels):
        if class_logits is None:
            return jnp.zeros((), jnp.float32), None
        accuracy = jnp.mean(jnp.argmax(class_logits, axis=-1) == labels)
        return objective_lib.classification_loss(class_logits, labels), accuracy

    def d_update(carry, data, key, batch_index):
        d_params, d_state, d_opt_state, g_state, g_params, penalty_states, controls = carry
        step_index = batch_index // s.n_disc
        p = probabilities(controls, step_index)
        real_key, z_key, batch_penalty_key = jax.random.split(key, 3)
        if devices.parallel:  # Penalty interpolation noise is drawn per device.
            batch_penalty_key = jax.random.fold_in(batch_penalty_key, devices.index())
        batch = sample_real(data, real_key, batch_index, s.batch_size)

        def micro_update(micro):
            """D's gradients on micro-batch `micro` (None: this device's whole batch)."""
            rows = devices.rows_of(micro)
            penalty_key = (batch_penalty_key if micro is None
                           else jax.random.fold_in(batch_penalty_key, micro))
            real = rows(batch["x"])
            real_labels = fake_labels = None
            if conditional:
                real_labels = rows(batch["label"])
                fake_labels = (real_labels if s.fake_labels == "real"
                               else uniform_labels(z_key, rows))
            fake, new_g_state = generate(g_params, g_state, z_key, fake_labels, rows)
            fake = jax.lax.stop_gradient(fake)
            if s.apa:  # APA: some real examples are generated ones, made for their labels.
                pseudo = generate(g_params, g_state, jax.random.fold_in(z_key, APA_STREAM),
                                  real_labels, rows)[0]
                replace = rows(jax.random.uniform(jax.random.fold_in(key, APA_STREAM),
                                                  (s.batch_size,)) < p["apa"])
                real = adaptive.deceive(real, jax.lax.stop_gradient(pseudo), replace)

            def perturbed_fake(sigma):
                return jax.lax.stop_gradient(
                    generate(g_params, new_g_state, z_key, fake_labels, rows, sigma)[0])

            def d_loss_fn(params):
                real_out, new_state = apply_model(discriminator, params, d_state,
                                                  judged(real, key, 0, p, rows), True,
                                                  real_labels)
                fake_out, new_state = apply_model(discriminator, params, new_state,
                                                  judged(fake, key, 1, p, rows), True,
                                                  fake_labels)
                (real_logits, real_class), (fake_logits, fake_class) = (
                    split_outputs(real_out), split_outputs(fake_out))
                adversarial = loss.d_loss(real_logits, fake_logits)
                class_loss, class_accuracy = class_terms(real_class, real_labels)

                def critic(packs, labels=real_labels):
                    """D's logits for packs (single examples without packing)."""
                    out = apply_model(discriminator, params, d_state,
                                      judged(unpack(packs, s.packing), key, 2, p, rows), True,
                                      labels)[0]
                    return split_outputs(out)[0]

                inputs = DInputs(critic=critic,
                                 fake_critic=lambda packs: critic(packs, fake_labels),
                                 real=pack(real, s.packing),
                                 fake=pack(fake, s.packing), key=penalty_key, images=real,
                                 real_logits=real_logits, fake_logits=fake_logits,
                                 global_std=global_std, mean_over_devices=devices.mean,
                                 fake_images=fake, perturbed_fake=perturbed_fake,
                                 batch_key=key, local_rows=rows, batch_size=s.batch_size,
                                 packing=s.packing)
                penalty, new_penalty_states = objective_lib.penalty_terms(
                    s.d_penalties, inputs, batch_index, penalty_states, step_index)
                total = adversarial + penalty
                if real_class is not None:  # AC-GAN: D classifies real and fake examples.
                    class_loss += class_terms(fake_class, fake_labels)[0]
                    total += s.class_weight * class_loss
                return total, ((new_state, new_g_state, adversarial, penalty, class_loss,
                                class_accuracy, new_penalty_states),
                               (real_logits, fake_logits, real, real_labels))

            return jax.grad(d_loss_fn, has_aux=True)(d_params)

        grads, (means, joined) = accumulate(micro_update, s.grad_accum)
        (d_state, g_state, adversarial, penalty, class_loss, class_accuracy,
         new_penalty_states) = merged_mean(means, s.grad_accum)
        real_logits, fake_logits, real, real_labels = merged_rows(joined, s.grad_accum)
        grads = devices.mean(grads)
        d_state, g_state = devices.sync(d_state), devices.sync(g_state)
        d_params, d_opt_state = apply_gradients(d_tx, grads, d_opt_state, d_params)
        penalty_states = {**penalty_states, **new_penalty_states}
        controls = {c.name: c.observe(controls.get(c.name), real_logits, devices.mean)
                    for c in s.controllers}
        metrics = d_metrics(adversarial, real_logits, fake_logits, grads, d_penalty=penalty)
        if s.controllers:  # The overfitting heuristic r_t: E[sign D(x_real)].
            metrics["d_real_sign"] = devices.mean(jnp.mean(jnp.sign(real_logits)))
        if class_accuracy is not None:  # A class head: how well D classifies real examples.
            metrics |= {"d_class_loss": class_loss, "d_real_class_acc": class_accuracy}
        return ((d_params, d_state, d_opt_state, g_state, g_params, penalty_states, controls),
                (metrics, (real, real_labels)))

    def step(state: GANState, data: PyTree) -> tuple[GANState, Metrics]:
        key = jax.random.fold_in(state.rng, state.step)
        g_key = jax.random.fold_in(key, 1)
        g_state, g_penalty_states = objective_lib.split_penalty_states(state.g_state,
                                                                       s.g_penalties)
        d_state, d_penalty_states = objective_lib.split_penalty_states(state.d_state,
                                                                       s.d_penalties)
        controls = {c.name: d_state.pop(c.name) for c in s.controllers if c.adaptive}
        p = probabilities(controls, state.step)
        carry = (state.d_params, d_state, state.d_opt_state, g_state, state.g_params,
                 d_penalty_states, controls)
        carry, (real, real_labels), d_step_metrics = run_d_updates(d_update, carry, data, key,
                                                                   state.step, s.n_disc)
        d_params, d_state, d_opt_state, g_state, _, d_penalty_states, controls = carry
        controls = {c.name: c.adjust(controls[c.name], state.step)
                    for c in s.controllers if c.adaptive}

        def g_micro(micro):
            """G's gradients on micro-batch `micro` (None: this device's whole batch)."""
            rows = devices.rows_of(micro)
            micro_real = devices.micro(real, micro)
            micro_real_labels = devices.micro(real_labels, micro)
            g_labels = None
            if conditional:
                g_labels = (micro_real_labels if s.fake_labels == "real"
                            else uniform_labels(g_key, rows))

            def g_loss_fn(params):
                fake, new_g_state = generate(params, g_state, g_key, g_labels, rows)
                judge = d_params
                if s.unroll_steps:  # G answers D as it will be after more updates.
                    judge = unrolled(d_params, d_opt_state, d_state, micro_real, fake)
                # D's running statistics are updated by D's own steps only.
                fake_out, _ = apply_model(discriminator, judge, d_state,
                                          judged(fake, g_key, 0, p, rows), True, g_labels)
                fake_logits, fake_class = split_outputs(fake_out)
                real_logits = None
                if loss.g_reads_real:  # A relativistic loss: G compares D(fake) with D(real).
                    real_out, _ = apply_model(discriminator, judge, d_state,
                                              judged(micro_real, g_key, 1, p, rows), True,
                                              micro_real_labels)
                    real_logits = split_outputs(real_out)[0]
                g_loss = total = loss.g_loss(real_logits, fake_logits)
                if fake_class is not None:
                    total += s.class_weight * class_terms(fake_class, g_labels)[0]
                inputs = GInputs(generator=generator, params=params, g_state=g_state,
                                 key=g_key, batch_size=s.batch_size,
                                 latents=lambda k, n: latents(k, n, rows),
                                 example_keys=lambda k, n: rows(example_keys(k, n)),
                                 local_rows=rows, mean_over_devices=devices.mean,
                                 fake=fake,
                                 perturbed_fake=lambda sigma: generate(params, g_state, g_key,
                                                                       g_labels, rows,
                                                                       sigma)[0])
                penalty, new_states = objective_lib.penalty_terms(
                    s.g_penalties, inputs, state.step, g_penalty_states, state.step)
                return total + penalty, ((new_g_state, g_loss, penalty, new_states),
                                         fake_logits)

            return jax.grad(g_loss_fn, has_aux=True)(state.g_params)

        g_grads, (means, joined) = accumulate(g_micro, s.grad_accum)
        g_state, g_loss, g_penalty, g_penalty_states = merged_mean(means, s.grad_accum)
        fake_logits = merged_rows(joined, s.grad_accum)

        def metrics(g_grads):
            regularised = {"g_penalty": g_penalty} if s.g_penalties else {}
            running = {**d_penalty_states, **g_penalty_states}
            for penalty in (*s.d_penalties, *s.g_penalties):
                if penalty.row.metrics is not None:
                    regularised |= penalty.row.metrics(running[penalty.row.name])
            for c in s.controllers:
                regularised[f"{c.name}_p"] = p[c.name]
            return {**d_step_metrics, "g_loss": g_loss, "g_fake_logit": jnp.mean(fake_logits),
                    "g_grad_norm": optax.tree_utils.tree_norm(g_grads), **regularised}

        d_state = {**objective_lib.with_penalty_states(d_state, s.d_penalties,
                                                       d_penalty_states), **controls}
        return finish_step(state, s, devices, g_tx, g_grads, g_state,
                           (d_params, d_state, d_opt_state), metrics,
                           g_penalty_states)

    return step
