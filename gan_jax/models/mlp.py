"""Fully connected generator and discriminator for low-dimensional data."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import linen as nn

from gan_jax.models.layers import get_activation


class MLPGenerator(nn.Module):
    """z -> `depth` hidden layers of `hidden_dim` units -> linear output of `output_shape`."""

    output_shape: tuple[int, ...]
    hidden_dim: int = 400
    depth: int = 4
    activation: str = "relu"

    @nn.compact
    def __call__(self, z: jax.Array, train: bool = True) -> jax.Array:
        del train  # No train/eval difference without normalisation layers.
        act = get_activation(self.activation)
        x = z
        for _ in range(self.depth):
            x = act(nn.Dense(self.hidden_dim)(x))
        x = nn.Dense(math.prod(self.output_shape))(x)
        return jnp.reshape(x, (z.shape[0], *self.output_shape))


class MLPDiscriminator(nn.Module):
    """x -> `depth` hidden layers of `hidden_dim` units -> one logit per example."""

    hidden_dim: int = 200
    depth: int = 3
    activation: str = "leaky_relu"

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        del train
        act = get_activation(self.activation)
        h = jnp.reshape(x, (x.shape[0], -1))
        for _ in range(self.depth):
            h = act(nn.Dense(self.hidden_dim)(h))
        return nn.Dense(1)(h)[:, 0]
