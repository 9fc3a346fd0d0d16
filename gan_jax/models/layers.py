"""Small building blocks shared by model families."""

from __future__ import annotations

from collections.abc import Callable

import jax
from flax import linen as nn

from gan_jax.config.registry import Registry

ACTIVATIONS: Registry[Callable[[jax.Array], jax.Array]] = Registry("activation")
ACTIVATIONS.register("relu")(nn.relu)
ACTIVATIONS.register("leaky_relu")(lambda x: nn.leaky_relu(x, negative_slope=0.2))
ACTIVATIONS.register("elu")(nn.elu)
ACTIVATIONS.register("gelu")(nn.gelu)
ACTIVATIONS.register("silu")(nn.silu)
ACTIVATIONS.register("tanh")(nn.tanh)


def get_activation(name: str) -> Callable[[jax.Array], jax.Array]:
    return ACTIVATIONS.get(name, key="activation")
