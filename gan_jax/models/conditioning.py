"""Class-conditioning layers shared by the model families.

A conditional generator computes G(z, y) and a conditional discriminator D(x, y) for integer
class labels y in [0, num_classes). How a family uses y is its `conditioning` field:

    generator       "cbn"         conditional BatchNorm: every normalised layer takes a
                                  per-class gain and bias (de Vries et al. 2017; Miyato &
                                  Koyama 2018) instead of shared ones.
                    "concat"      a learned class embedding concatenated to z.
                    "cbn_concat"  both, as BigGAN's generator does: the embedding enters the
                                  first layer, and every normalised layer is conditional.
    discriminator   "projection"  the inner product of a class embedding with D's features,
                                  added to its logit (Miyato & Koyama 2018).
                    "ac"          an auxiliary classifier head (AC-GAN, Odena et al. 2017);
                                  D returns {"logit", "class_logits"} and ignores y.
                    "concat"      one-hot label channels concatenated to D's input.

With `num_classes == 0` a module is unconditional and ignores any labels it is given.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import linen as nn

from gan_jax.config.registry import ConfigError
from gan_jax.models.blocks import maybe_spectral, normalise

GENERATOR_CONDITIONING = ("cbn", "concat", "cbn_concat")
DISCRIMINATOR_CONDITIONING = ("projection", "ac", "concat")


def check_conditioning(value: str, known: tuple[str, ...], section: str) -> None:
    if value not in known:
        raise ConfigError(f"{section}.conditioning: {value!r} is not one of {known}")


def labels_for(labels: jax.Array | None, batch: int) -> jax.Array:
    """The labels of a conditional module's call, checked for shape: [batch] integers."""
    if labels is None:
        raise ValueError("a class-conditional model needs labels: call it as module(x, labels)")
    if labels.shape != (batch,) or not jnp.issubdtype(labels.dtype, jnp.integer):
        raise ValueError(f"expected integer labels of shape ({batch},), got {labels.dtype} "
                         f"{labels.shape}")
    return labels


def one_hot_channels(x: jax.Array, labels: jax.Array, num_classes: int) -> jax.Array:
    """`x` [b, ..., c] with one-hot labels appended as `num_classes` channels, constant over
    every non-batch axis."""
    one_hot = jax.nn.one_hot(labels, num_classes, dtype=x.dtype)
    one_hot = jnp.reshape(one_hot, (x.shape[0],) + (1,) * (x.ndim - 2) + (num_classes,))
    return jnp.concatenate([x, jnp.broadcast_to(one_hot, (*x.shape[:-1], num_classes))], -1)


class ConditionalBatchNorm(nn.Module):
    """BatchNorm (or another `kind` of `blocks.normalise`) without shared scale and bias, then
    a gain and a bias looked up by label: rows of [num_classes, features] tables, so a batch
    updates only its labels' rows.

    gain = 1 + scale * table_g and bias = scale * table_b, with the tables starting at
    N(0, (gain_std / scale)^2) and 0: the gains start at N(1, gain_std^2) whatever `scale`,
    and an optimizer with per-parameter step sizes (Adam) moves them `scale` times faster,
    like StyleGAN's equalised learning rate. Each row sees only its class's share of a
    batch, so with scale 1 the classes separate slowly (see docs/conditional.md).
    """

    num_classes: int
    momentum: float = 0.9
    axis_name: str | None = None
    gain_std: float = 0.0
    scale: float = 1.0
    kind: str = "batch"
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, x: jax.Array, labels: jax.Array, train: bool) -> jax.Array:
        x = normalise(x, self.kind, train, "norm", momentum=self.momentum,
                      axis_name=self.axis_name, affine=False, dtype=self.dtype)
        features = x.shape[-1]
        table = (self.num_classes, features)
        gain_init = (nn.initializers.normal(self.gain_std / self.scale) if self.gain_std
                     else nn.initializers.zeros_init())
        gain = 1.0 + self.scale * self.param("gain", gain_init, table, jnp.float32)
        bias = self.scale * self.param("bias", nn.initializers.zeros_init(), table,
                                       jnp.float32)
        shape = (x.shape[0],) + (1,) * (x.ndim - 2) + (features,)
        return (x * jnp.reshape(gain[labels], shape).astype(x.dtype)
                + jnp.reshape(bias[labels], shape).astype(x.dtype))


class Projection(nn.Module):
    """<embed(y), features>: the class-dependent part of a projection discriminator's logit."""

    num_classes: int
    embedding_init: nn.initializers.Initializer = nn.initializers.normal(0.02)
    spectral_norm: str = "none"  # The embedding is normalised when this includes "embed".
    sn_iterations: int = 1

    @nn.compact
    def __call__(self, features: jax.Array, labels: jax.Array, train: bool = True) -> jax.Array:
        layer = nn.Embed(self.num_classes, features.shape[-1],
                         embedding_init=self.embedding_init, name="embed")
        embed = maybe_spectral(layer, "embed", self.spectral_norm, self.sn_iterations,
                               train)(labels)
        return jnp.sum(embed * features, axis=-1)
