"""The pure train step of image-to-image translation (pix2pix).

A batch is {"x": targets b, "condition": inputs a}. D learns to tell real pairs (b, a) from
generated ones (G(a), a); its adversarial loss is halved, as in pix2pix (with Adam this
mostly leaves the update unchanged, since Adam normalises gradient scale). G minimises

    gan_weight * (the loss's generator term on D(G(a), a)) + l1_weight * mean |G(a) - b|.

`gan_weight` 0 is the paper's "L1 only" ablation, `l1_weight` 0 its "cGAN only"; a
discriminator built with `sees_input=False` is its unconditional D.

Key schedule, as in `gan_jax.training.step`: the key of step t is fold_in(state.rng, t); D update i
uses fold_in(key, 0) split n_disc ways (each split into the jitter of real batch t * n_disc + i
and G's dropout), and G's update fold_in(key, 1) for its dropout, on the last real batch. G's
dropout masks are drawn for the global batch (`BatchDropout`), so a pmapped run matches a
one-device run; with per-device BatchNorm (no cross-device axis) each device folds in its
index instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import linen as nn

from gan_jax.training import hyperparameters
from gan_jax.training import objective as objective_lib
from gan_jax.training.state import GANState
from gan_jax.training.update import (
    Devices,
    Metrics,
    PyTree,
    SampleFn,
    UpdateSettings,
    apply_gradients,
    apply_model,
    d_metrics,
    finish_step,
    run_d_updates,
    split_outputs,
    update_settings,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TranslationSettings(UpdateSettings):
    """The static numbers the translation step is compiled with."""

    l1_weight: float
    gan_weight: float

    @classmethod
    def from_config(cls, config: Any, plan: Any = None,
                    values: hyperparameters.Values | None = None) -> TranslationSettings:
        """The settings of `config` (a vectorised run's per-replica scalars: `values`)."""
        return cls(l1_weight=hyperparameters.value(config, "loss.l1_weight", values),
                   gan_weight=hyperparameters.value(config, "loss.gan_weight", values),
                   **update_settings(config, plan, values))


def make_translation_step(
    generator: nn.Module,
    discriminator: nn.Module,
    loss: objective_lib.GANLoss,
    g_tx: optax.GradientTransformation,
    d_tx: optax.GradientTransformation,
    settings: TranslationSettings,
    sample_pairs: SampleFn,
) -> Callable[[GANState, PyTree], tuple[GANState, Metrics]]:
    """Builds the pure function `step(state, data) -> (new_state, metrics)`."""
    s = settings
    devices = Devices(s)

    def dropout_key(key):
        if devices.parallel and s.sync_model_state:  # No cross-device axis in G: per device.
            return jax.random.fold_in(key, devices.index())
        return key

    def d_update(carry, data, key, batch_index):
        d_params, d_state, d_opt_state, g_state, g_params = carry
        real_key, g_key = jax.random.split(key)
        batch = sample_pairs(data, real_key, batch_index, s.batch_size)
        real, condition = devices.rows(batch["x"]), devices.rows(batch["condition"])
        fake, g_state = apply_model(generator, g_params, g_state, condition, True,
                                    dropout_key=dropout_key(g_key))
        fake = jax.lax.stop_gradient(fake)

        def d_loss_fn(params):
            real_out, new_state = apply_model(discriminator, params, d_state, real, True,
                                              condition)
            fake_out, new_state = apply_model(discriminator, params, new_state, fake, True,
                                              condition)
            real_logits, fake_logits = split_outputs(real_out)[0], split_outputs(fake_out)[0]
            adversarial = objective_lib.TRANSLATION_D_SCALE * loss.d_loss(real_logits,
                                                                          fake_logits)
            return adversarial, (new_state, adversarial, real_logits, fake_logits)

        grads, (d_state, d_loss, real_logits, fake_logits) = jax.grad(
            d_loss_fn, has_aux=True)(d_params)
        grads = devices.mean(grads)
        d_state, g_state = devices.sync(d_state), devices.sync(g_state)
        d_params, d_opt_state = apply_gradients(d_tx, grads, d_opt_state, d_params)
        metrics = d_metrics(d_loss, real_logits, fake_logits, grads)
        return (d_params, d_state, d_opt_state, g_state, g_params), (metrics, (real, condition))

    def step(state: GANState, data: PyTree) -> tuple[GANState, Metrics]:
        key = jax.random.fold_in(state.rng, state.step)
        g_key = jax.random.fold_in(key, 1)
        carry = (state.d_params, state.d_state, state.d_opt_state, state.g_state,
                 state.g_params)
        carry, (real, condition), d_step_metrics = run_d_updates(d_update, carry, data, key,
                                                                 state.step, s.n_disc)
        d_params, d_state, d_opt_state, g_state, _ = carry

        def g_loss_fn(params):
            fake, new_g_state = apply_model(generator, params, g_state, condition, True,
                                            dropout_key=dropout_key(g_key))
            # D's running statistics are updated by D's own steps only.
            fake_out, _ = apply_model(discriminator, d_params, d_state, fake, True, condition)
            fake_logits = split_outputs(fake_out)[0]
            real_logits = None
            if loss.g_reads_real:  # A relativistic loss: G compares D(fake) with D(real).
                real_out, _ = apply_model(discriminator, d_params, d_state, real, True,
                                          condition)
                real_logits = split_outputs(real_out)[0]
            adversarial = loss.g_loss(real_logits, fake_logits)
            l1 = objective_lib.l1_loss(fake, real)
            total = s.gan_weight * adversarial + s.l1_weight * l1
            return total, (new_g_state, fake_logits, adversarial, l1)

        (_, (g_state, fake_logits, g_loss, l1)), g_grads = jax.value_and_grad(
            g_loss_fn, has_aux=True)(state.g_params)

        def metrics(g_grads):
            return {**d_step_metrics, "g_loss": g_loss, "g_l1": l1,
                    "g_fake_logit": jnp.mean(fake_logits),
                    "g_grad_norm": optax.tree_utils.tree_norm(g_grads)}

        return finish_step(state, s, devices, g_tx, g_grads, g_state,
                           (d_params, d_state, d_opt_state), metrics)

    return step
