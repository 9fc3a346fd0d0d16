"""Latent noise distributions."""

from __future__ import annotations

import jax
import jax.numpy as jnp

LATENT_DISTRIBUTIONS = ("normal", "uniform")


def sample_latent(key: jax.Array, num: int, dim: int, distribution: str) -> jax.Array:
    """Draws [num, dim] latents: standard normal, or uniform on [-1, 1]."""
    if distribution == "normal":
        return jax.random.normal(key, (num, dim), jnp.float32)
    if distribution == "uniform":
        return jax.random.uniform(key, (num, dim), jnp.float32, minval=-1.0, maxval=1.0)
    raise ValueError(
        f"model.latent_dist: unknown latent distribution {distribution!r} "
        f"(known: {', '.join(LATENT_DISTRIBUTIONS)})"
    )
