"""PacGAN packing (Lin et al. 2018): the discriminator judges m samples at once.

m consecutive examples of a batch are concatenated along the last axis: the features of
vectors, the channels of images ([n, H, W, C] -> [n/m, H, W, m*C]). A discriminator that
sees packs can tell a batch of near-copies from a diverse one, which penalises mode
collapse. m = 1 is no packing: every function here is then the identity.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def pack(x: jax.Array, m: int) -> jax.Array:
    """[n, *shape, C] -> [n / m, *shape, m * C]: m consecutive examples per row."""
    if m == 1:
        return x
    grouped = jnp.reshape(x, (x.shape[0] // m, m, *x.shape[1:]))
    grouped = jnp.moveaxis(grouped, 1, -2)  # [n / m, *shape, m, C]
    return jnp.reshape(grouped, (*grouped.shape[:-2], -1))


def unpack(x: jax.Array, m: int) -> jax.Array:
    """The inverse of `pack`: [n / m, *shape, m * C] -> [n, *shape, C]."""
    if m == 1:
        return x
    grouped = jnp.reshape(x, (*x.shape[:-1], m, x.shape[-1] // m))
    grouped = jnp.moveaxis(grouped, -2, 1)  # [n / m, m, *shape, C]
    return jnp.reshape(grouped, (-1, *grouped.shape[2:]))


def packed_shape(example_shape: tuple[int, ...], m: int) -> tuple[int, ...]:
    """The shape of one pack of m examples of `example_shape`."""
    return (*example_shape[:-1], example_shape[-1] * m)
