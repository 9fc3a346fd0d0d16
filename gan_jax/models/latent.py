"""Latent noise distributions."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from gan_jax.config import LATENT_DISTRIBUTIONS


def sample_latent(key: jax.Array, num: int, dim: int, distribution: str,
                  truncation: float = 0.0) -> jax.Array:
    """Draws [num, dim] latents: standard normal, or uniform on [-1, 1]. A `truncation` t > 0
    draws the normal truncated to [-t, t] (BigGAN's truncation trick: values outside are
    redrawn, trading variety for fidelity)."""
    if truncation and distribution != "normal":
        raise ValueError(f"truncation: truncates a normal latent; this run's is {distribution!r}")
    if distribution == "normal" and truncation:
        return jax.random.truncated_normal(key, -truncation, truncation, (num, dim), jnp.float32)
    if distribution == "normal":
        return jax.random.normal(key, (num, dim), jnp.float32)
    if distribution == "uniform":
        return jax.random.uniform(key, (num, dim), jnp.float32, minval=-1.0, maxval=1.0)
    raise ValueError(
        f"model.latent_dist: unknown latent distribution {distribution!r} "
        f"(known: {', '.join(LATENT_DISTRIBUTIONS)})"
    )


def interpolate(z0: jax.Array, z1: jax.Array, num: int, method: str = "slerp") -> jax.Array:
    """`num` latents from z0 to z1 (both included) -> [num, dim].

    "linear" walks the chord; "slerp" walks the great circle, scaling the norm linearly, so
    intermediate points of a Gaussian prior keep a typical norm instead of shrinking towards
    the origin.
    """
    t = jnp.linspace(0.0, 1.0, num)[:, None]
    if method == "linear":
        return (1.0 - t) * z0 + t * z1
    if method != "slerp":
        raise ValueError(f"interpolation: unknown method {method!r} (known: linear, slerp)")
    n0, n1 = jnp.linalg.norm(z0), jnp.linalg.norm(z1)
    u0, u1 = z0 / n0, z1 / n1
    omega = jnp.arccos(jnp.clip(jnp.dot(u0, u1), -1.0, 1.0))
    sin_omega = jnp.sin(omega)
    # Nearly parallel vectors: the great circle is the chord.
    safe = jnp.where(sin_omega > 1e-6, sin_omega, 1.0)
    w0 = jnp.where(sin_omega > 1e-6, jnp.sin((1.0 - t) * omega) / safe, 1.0 - t)
    w1 = jnp.where(sin_omega > 1e-6, jnp.sin(t * omega) / safe, t)
    direction = w0 * u0 + w1 * u1
    direction = direction / jnp.linalg.norm(direction, axis=-1, keepdims=True)
    return direction * ((1.0 - t) * n0 + t * n1)


def traverse(base: jax.Array, dims: list[int] | tuple[int, ...], values: jax.Array) -> jax.Array:
    """Sets one latent dimension at a time to each of `values`, the others fixed.

    base: [num_bases, dim] -> [num_bases, len(dims), len(values), dim].
    """
    dim = base.shape[-1]
    bad = [d for d in dims if not 0 <= d < dim]
    if bad:
        raise ValueError(f"traversal dims {bad} out of range for latent_dim {dim}")
    grid = jnp.broadcast_to(base[:, None, None, :],
                            (base.shape[0], len(dims), values.shape[0], dim))
    for i, d in enumerate(dims):
        grid = grid.at[:, i, :, d].set(values[None, :])
    return grid
