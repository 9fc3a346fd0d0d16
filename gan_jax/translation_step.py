"""The pure train step of image-to-image translation (pix2pix).

A batch is {"x": targets b, "condition": inputs a}. D learns to tell real pairs (b, a) from
generated ones (G(a), a); its adversarial loss is halved, as in pix2pix (with Adam this
mostly leaves the update unchanged, since Adam normalises gradient scale). G minimises

    gan_weight * (the loss's generator term on D(G(a), a)) + l1_weight * mean |G(a) - b|.

`gan_weight` 0 is the paper's "L1 only" ablation, `l1_weight` 0 its "cGAN only"; a
discriminator built with `sees_input=False` is its unconditional D.

Key schedule, as in `gan_jax.step`: the key of step t is fold_in(state.rng, t); D update i
uses fold_in(key, 0) split n_disc ways (each split into the jitter of real batch t * n_disc + i
and G's dropout), and G's update fold_in(key, 1) for its dropout, on the last real batch. G's
dropout masks are drawn for the global batch (`BatchDropout`), so a pmapped run matches a
one-device run; with per-device BatchNorm (no cross-device axis) each device folds in its
index instead.
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

from gan_jax import losses as losses_lib
from gan_jax.state import GANState, ema_decay_at
from gan_jax.step import (
    Metrics,
    PyTree,
    SampleFn,
    apply_model,
    device_rows,
    parallel_settings,
    split_outputs,
)

D_LOSS_SCALE = 0.5  # pix2pix divides D's objective by 2.


@dataclasses.dataclass(frozen=True)
class TranslationSettings:
    """The static numbers the translation step is compiled with."""

    batch_size: int
    n_disc: int
    ema_decay: float
    l1_weight: float
    gan_weight: float
    # StyleGAN2-ADA's EMA ramp-up (0: off), see gan_jax.state.ema_decay_at.
    ema_rampup: float = 0.0
    axis_name: str | None = None
    num_replicas: int = 1
    batch_sharding: Any = None
    sync_model_state: bool = False

    @classmethod
    def from_config(cls, config: Any, plan: Any = None) -> TranslationSettings:
        return cls(
            batch_size=config.train.batch_size,
            n_disc=config.train.n_disc,
            ema_decay=float(config.train.ema_decay),
            ema_rampup=float(config.train.ema_rampup),
            l1_weight=float(config.loss.l1_weight),
            gan_weight=float(config.loss.gan_weight),
            **parallel_settings(plan),
        )


def make_translation_step(
    generator: nn.Module,
    discriminator: nn.Module,
    loss: losses_lib.GANLoss,
    g_tx: optax.GradientTransformation,
    d_tx: optax.GradientTransformation,
    settings: TranslationSettings,
    sample_pairs: SampleFn,
) -> Callable[[GANState, PyTree], tuple[GANState, Metrics]]:
    """Builds the pure function `step(state, data) -> (new_state, metrics)`."""
    s = settings
    parallel = s.axis_name is not None
    local_rows = functools.partial(device_rows, settings=s)

    def mean_over_devices(tree):
        return jax.lax.pmean(tree, s.axis_name) if parallel else tree

    def sync_state(model_state):
        return mean_over_devices(model_state) if s.sync_model_state else model_state

    def dropout_key(key):
        if parallel and s.sync_model_state:  # No cross-device axis in G: masks per device.
            return jax.random.fold_in(key, jax.lax.axis_index(s.axis_name))
        return key

    def d_update(carry, data, key, batch_index):
        d_params, d_state, d_opt_state, g_state, g_params = carry
        real_key, g_key = jax.random.split(key)
        batch = sample_pairs(data, real_key, batch_index, s.batch_size)
        real, condition = local_rows(batch["x"]), local_rows(batch["condition"])
        fake, g_state = apply_model(generator, g_params, g_state, condition, True,
                                    dropout_key=dropout_key(g_key))
        fake = jax.lax.stop_gradient(fake)

        def d_loss_fn(params):
            real_out, new_state = apply_model(discriminator, params, d_state, real, True,
                                              condition)
            fake_out, new_state = apply_model(discriminator, params, new_state, fake, True,
                                              condition)
            real_logits, fake_logits = split_outputs(real_out)[0], split_outputs(fake_out)[0]
            adversarial = D_LOSS_SCALE * loss.d_loss(real_logits, fake_logits)
            return adversarial, (new_state, adversarial, real_logits, fake_logits)

        grads, (d_state, d_loss, real_logits, fake_logits) = jax.grad(
            d_loss_fn, has_aux=True)(d_params)
        grads = mean_over_devices(grads)
        d_state, g_state = sync_state(d_state), sync_state(g_state)
        updates, d_opt_state = d_tx.update(grads, d_opt_state, d_params)
        d_params = optax.apply_updates(d_params, updates)
        metrics = {
            "d_loss": d_loss,
            "d_real_logit": jnp.mean(real_logits),
            "d_fake_logit": jnp.mean(fake_logits),
            "d_real": jnp.mean(jax.nn.sigmoid(real_logits)),
            "d_fake": jnp.mean(jax.nn.sigmoid(fake_logits)),
            "d_grad_norm": optax.tree_utils.tree_norm(grads),
        }
        return (d_params, d_state, d_opt_state, g_state, g_params), (metrics, real, condition)

    def step(state: GANState, data: PyTree) -> tuple[GANState, Metrics]:
        key = jax.random.fold_in(state.rng, state.step)
        d_keys = jax.random.split(jax.random.fold_in(key, 0), s.n_disc)
        g_key = jax.random.fold_in(key, 1)
        carry = (state.d_params, state.d_state, state.d_opt_state, state.g_state,
                 state.g_params)
        d_metrics = []
        for i in range(s.n_disc):  # A Python loop, as in gan_jax.step (XLA:CPU is faster).
            carry, (metrics, real, condition) = d_update(carry, data, d_keys[i],
                                                         state.step * s.n_disc + i)
            d_metrics.append(metrics)
        d_params, d_state, d_opt_state, g_state, _ = carry
        d_metrics = jax.tree.map(lambda *v: jnp.mean(jnp.stack(v)), *d_metrics)

        def g_loss_fn(params):
            fake, new_g_state = apply_model(generator, params, g_state, condition, True,
                                            dropout_key=dropout_key(g_key))
            # D's running statistics are updated by D's own steps only.
            fake_out, _ = apply_model(discriminator, d_params, d_state, fake, True, condition)
            fake_logits = split_outputs(fake_out)[0]
            adversarial = loss.g_loss(fake_logits)
            l1 = jnp.mean(jnp.abs(fake - real))
            total = s.gan_weight * adversarial + s.l1_weight * l1
            return total, (new_g_state, fake_logits, adversarial, l1)

        (_, (g_state, fake_logits, g_loss, l1)), g_grads = jax.value_and_grad(
            g_loss_fn, has_aux=True)(state.g_params)
        g_grads = mean_over_devices(g_grads)
        g_state = sync_state(g_state)
        updates, g_opt_state = g_tx.update(g_grads, state.g_opt_state, state.g_params)
        g_params = optax.apply_updates(state.g_params, updates)
        ema_g_params = optax.incremental_update(g_params, state.ema_g_params,
                                                1.0 - ema_decay_at(state.step, s.ema_decay,
                                                                   s.ema_rampup))
        metrics = mean_over_devices({
            **d_metrics,
            "g_loss": g_loss,
            "g_l1": l1,
            "g_fake_logit": jnp.mean(fake_logits),
            "g_grad_norm": optax.tree_utils.tree_norm(g_grads),
        })
        new_state = state.replace(
            step=state.step + 1, g_params=g_params, d_params=d_params, g_state=g_state,
            d_state=d_state, g_opt_state=g_opt_state, d_opt_state=d_opt_state,
            ema_g_params=ema_g_params)
        return new_state, metrics

    return step
