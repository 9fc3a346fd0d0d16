"""GAN objectives as pure functions of discriminator logits, plus gradient penalties.

Every loss returns a scalar averaged over the batch. "Logits" are the raw, unbounded
discriminator outputs; D(x) = sigmoid(logit) for the probabilistic losses, and the critic
value itself for the hinge and Wasserstein losses. The BCE forms use log-sigmoid identities
(log D = -softplus(-l), log(1 - D) = -softplus(l)) so they never take the log of a
rounded-to-zero probability.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from gan_jax.registry import Registry

Array = jax.Array


class GANLoss(NamedTuple):
    """A discriminator loss and the matching generator loss."""

    d_loss: Callable[[Array, Array], Array]  # (real_logits, fake_logits) -> scalar
    g_loss: Callable[[Array], Array]  # fake_logits -> scalar


LOSSES: Registry[GANLoss] = Registry("loss")


def bce_d_loss(real_logits: Array, fake_logits: Array) -> Array:
    """-log D(x) - log(1 - D(G(z))): binary cross-entropy with labels 1 (real) and 0 (fake)."""
    return jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))


def minimax_g_loss(fake_logits: Array) -> Array:
    """log(1 - D(G(z))), the saturating loss of the original minimax game (G minimises it).

    Equivalently G maximises -log(1 - D(G(z))). Its gradient vanishes when D confidently
    rejects the fakes, which is why the non-saturating loss is used in practice.
    """
    return -jnp.mean(jax.nn.softplus(fake_logits))


def non_saturating_g_loss(fake_logits: Array) -> Array:
    """-log D(G(z)): same fixed point as minimax, strong gradients early in training."""
    return jnp.mean(jax.nn.softplus(-fake_logits))


def least_squares_d_loss(real_logits: Array, fake_logits: Array) -> Array:
    """LSGAN with targets a=0 (fake), b=1 (real): 1/2 E(D(x)-1)^2 + 1/2 E D(G(z))^2."""
    return 0.5 * jnp.mean((real_logits - 1.0) ** 2) + 0.5 * jnp.mean(fake_logits**2)


def least_squares_g_loss(fake_logits: Array) -> Array:
    """LSGAN generator target c=1: 1/2 E(D(G(z))-1)^2."""
    return 0.5 * jnp.mean((fake_logits - 1.0) ** 2)


def hinge_d_loss(real_logits: Array, fake_logits: Array) -> Array:
    """E max(0, 1 - D(x)) + E max(0, 1 + D(G(z)))."""
    return jnp.mean(jax.nn.relu(1.0 - real_logits)) + jnp.mean(jax.nn.relu(1.0 + fake_logits))


def wasserstein_d_loss(real_logits: Array, fake_logits: Array) -> Array:
    """E D(G(z)) - E D(x): the critic maximises the gap between real and fake scores."""
    return jnp.mean(fake_logits) - jnp.mean(real_logits)


def critic_g_loss(fake_logits: Array) -> Array:
    """-E D(G(z)): generator loss for the hinge and Wasserstein critics."""
    return -jnp.mean(fake_logits)


LOSSES.register("minimax")(GANLoss(bce_d_loss, minimax_g_loss))
LOSSES.register("non_saturating")(GANLoss(bce_d_loss, non_saturating_g_loss))
LOSSES.register("least_squares")(GANLoss(least_squares_d_loss, least_squares_g_loss))
LOSSES.register("hinge")(GANLoss(hinge_d_loss, critic_g_loss))
LOSSES.register("wasserstein")(GANLoss(wasserstein_d_loss, critic_g_loss))


def classification_loss(class_logits: Array, labels: Array) -> Array:
    """Softmax cross-entropy of integer labels, averaged: the auxiliary loss of a
    discriminator with a class head (AC-GAN)."""
    log_probs = jax.nn.log_softmax(class_logits.astype(jnp.float32), axis=-1)
    return -jnp.mean(jnp.take_along_axis(log_probs, labels[:, None], axis=-1))


def get_loss(name: str) -> GANLoss:
    return LOSSES.get(name, key="loss.name")


def _per_example_grad_sq_norm(critic: Callable[[Array], Array], x: Array) -> Array:
    """||d critic(x_i) / d x_i||^2 for every example i (the critic must act per example)."""
    grads = jax.grad(lambda inputs: jnp.sum(critic(inputs)))(x)
    return jnp.sum(jnp.reshape(grads, (grads.shape[0], -1)) ** 2, axis=-1)


def gradient_penalty(
    critic: Callable[[Array], Array], real: Array, fake: Array, key: Array
) -> Array:
    """WGAN-GP: E (||grad critic(x_hat)|| - 1)^2 at x_hat uniformly between real and fake pairs."""
    eps_shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    eps = jax.random.uniform(key, eps_shape, dtype=real.dtype)
    x_hat = eps * real + (1.0 - eps) * fake
    sq_norm = _per_example_grad_sq_norm(critic, x_hat)
    # The tiny offset keeps the gradient of the sqrt finite where the gradient is exactly zero.
    return jnp.mean((jnp.sqrt(sq_norm + 1e-12) - 1.0) ** 2)


def r1_penalty(critic: Callable[[Array], Array], real: Array) -> Array:
    """R1 (Mescheder et al. 2018): E ||grad critic(x)||^2 on real data. Weighted by gamma/2."""
    return jnp.mean(_per_example_grad_sq_norm(critic, real))


def dragan_penalty(critic: Callable[[Array], Array], real: Array, key: Array,
                   scale: float = 0.5, spread: Array | None = None) -> Array:
    """DRAGAN (Kodali et al. 2017): E (||grad critic(x_hat)|| - 1)^2 around the real data, at
    x_hat = x + a * scale * spread * u, with u ~ U[0, 1) per element, a ~ U[0, 1) per example
    and `spread` the standard deviation of the real batch (default: of `real`)."""
    noise_key, alpha_key = jax.random.split(key)
    spread = jnp.std(real) if spread is None else spread
    noise = scale * spread * jax.random.uniform(noise_key, real.shape, real.dtype)
    alpha = jax.random.uniform(alpha_key, (real.shape[0],) + (1,) * (real.ndim - 1),
                               real.dtype)
    sq_norm = _per_example_grad_sq_norm(critic, real + alpha * noise)
    return jnp.mean((jnp.sqrt(sq_norm + 1e-12) - 1.0) ** 2)
