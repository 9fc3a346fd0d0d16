"""Fully connected generator and discriminator for low-dimensional data.

Both take optional class labels (see `gan_jax.models.conditioning`); unconditional modules
(`num_classes == 0`) ignore them.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import linen as nn

from gan_jax.models.blocks import maybe_spectral, spectral_kinds
from gan_jax.models.conditioning import (
    DISCRIMINATOR_CONDITIONING,
    GENERATOR_CONDITIONING,
    ConditionalBatchNorm,
    Projection,
    check_conditioning,
    labels_for,
    one_hot_channels,
)
from gan_jax.models.layers import get_activation


class MLPGenerator(nn.Module):
    """z -> `depth` hidden layers of `hidden_dim` units -> linear output of `output_shape`.

    Class-conditional: "concat" appends a `class_embed_dim` label embedding to z; "cbn"
    normalises every hidden layer with conditional BatchNorm before its activation.
    """

    output_shape: tuple[int, ...]
    hidden_dim: int = 400
    depth: int = 4
    activation: str = "relu"
    conditioning: str = "concat"  # Used when class-conditional: concat | cbn.
    class_embed_dim: int = 16
    cbn_scale: float = 1.0  # "cbn": how much faster the per-class tables learn.
    bn_momentum: float = 0.9
    num_classes: int = 0  # Derived from model.condition and the dataset.
    bn_axis_name: str | None = None  # Derived from train.batch_norm and the device plan.

    def check_config(self) -> None:
        check_conditioning(self.conditioning, GENERATOR_CONDITIONING, "model.generator")

    @nn.compact
    def __call__(self, z: jax.Array, labels: jax.Array | None = None,
                 train: bool = True) -> jax.Array:
        act = get_activation(self.activation)
        x = z
        cbn = bool(self.num_classes) and self.conditioning in ("cbn", "cbn_concat")
        if self.num_classes:
            labels = labels_for(labels, z.shape[0])
            if self.conditioning in ("concat", "cbn_concat"):
                x = jnp.concatenate([x, nn.Embed(self.num_classes, self.class_embed_dim,
                                                 name="class_embed")(labels)], axis=-1)
        for i in range(self.depth):
            # No bias before BatchNorm, which would subtract it again.
            x = nn.Dense(self.hidden_dim, use_bias=not cbn, name=f"Dense_{i}")(x)
            if cbn:
                x = ConditionalBatchNorm(self.num_classes, self.bn_momentum, self.bn_axis_name,
                                         scale=self.cbn_scale, name=f"cbn{i}")(x, labels, train)
            x = act(x)
        x = nn.Dense(math.prod(self.output_shape), name=f"Dense_{self.depth}")(x)
        return jnp.reshape(x, (z.shape[0], *self.output_shape))


class MLPDiscriminator(nn.Module):
    """x -> `depth` hidden layers of `hidden_dim` units -> one logit per example.

    Class-conditional: "projection" adds <embed(y), h> to the logit, h the last hidden layer;
    "ac" also returns class logits from h; "concat" appends one-hot labels to x.
    """

    hidden_dim: int = 200
    depth: int = 3
    activation: str = "leaky_relu"
    conditioning: str = "projection"  # Used when class-conditional: projection | ac | concat.
    spectral_norm: str = "none"  # none | all | comma-separated dense, embed.
    sn_iterations: int = 1
    num_classes: int = 0  # Derived from model.condition and the dataset.

    def check_config(self) -> None:
        check_conditioning(self.conditioning, DISCRIMINATOR_CONDITIONING,
                           "model.discriminator")
        spectral_kinds(self.spectral_norm, "model.discriminator.spectral_norm")

    @nn.compact
    def __call__(self, x: jax.Array, labels: jax.Array | None = None,
                 train: bool = True) -> jax.Array | dict[str, jax.Array]:
        act = get_activation(self.activation)
        h = jnp.reshape(x, (x.shape[0], -1))
        if self.num_classes:
            labels = labels_for(labels, x.shape[0]) if self.conditioning != "ac" else None
            if self.conditioning == "concat":
                h = one_hot_channels(h, labels, self.num_classes)

        def dense(features: int, name: str):
            return maybe_spectral(nn.Dense(features, name=name), "dense", self.spectral_norm,
                                  self.sn_iterations, train)

        for i in range(self.depth):
            h = act(dense(self.hidden_dim, f"Dense_{i}")(h))
        logit = dense(1, f"Dense_{self.depth}")(h)[:, 0]
        if not self.num_classes:
            return logit
        if self.conditioning == "projection":
            return logit + Projection(self.num_classes, nn.initializers.normal(0.1),
                                      self.spectral_norm, self.sn_iterations,
                                      name="projection")(h, labels, train)
        if self.conditioning == "ac":
            return {"logit": logit, "class_logits": dense(self.num_classes, "class_head")(h)}
        return logit
