"""A small CNN classifier for 28x28 images, used as the feature extractor of image metrics.

It knows nothing of training or metrics: `__call__` returns the logits and the penultimate
activations, which the metrics use as features.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import linen as nn

from gan_jax.models.conv import MatmulConv2D


class DigitCNN(nn.Module):
    """Blocks of `convs_per_block` 3x3 convolutions and a 2x2 max-pool, then a ReLU dense layer
    and the class logits. Inputs are NHWC floats in [-1, 1]. The features are the dense
    layer's pre-activations: after the ReLU many units are zero on every image (dead), which
    would leave the features' covariance singular."""

    num_classes: int = 10
    widths: tuple[int, ...] = (32, 64)
    feature_dim: int = 128
    convs_per_block: int = 1
    dropout: float = 0.5

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> tuple[jax.Array, jax.Array]:
        for block, width in enumerate(self.widths):
            for i in range(self.convs_per_block):
                x = nn.relu(MatmulConv2D(width, (3, 3), name=f"conv{block}_{i}")(x))
            x = max_pool_2x2(x)
        x = jnp.reshape(x, (x.shape[0], -1))
        features = nn.Dense(self.feature_dim, name="features")(x)
        hidden = nn.Dropout(self.dropout, deterministic=not train)(nn.relu(features))
        logits = nn.Dense(self.num_classes, name="logits")(hidden)
        return logits, features


def max_pool_2x2(x: jax.Array) -> jax.Array:
    """2x2 max-pooling with stride 2 (an odd last row or column is dropped), as a reshape and
    a reduction: its gradient is much cheaper on CPU than `nn.max_pool`'s."""
    b, h, w, c = x.shape
    x = x[:, : h // 2 * 2, : w // 2 * 2]
    return jnp.max(jnp.reshape(x, (b, h // 2, 2, w // 2, 2, c)), axis=(2, 4))
