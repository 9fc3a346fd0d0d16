"""A small CNN classifier for 28x28 images, used as the feature extractor of image metrics.

It knows nothing of training or metrics: `__call__` returns the logits and the penultimate
activations, which the metrics use as features. A trained classifier is stored as a directory
holding `classifier.json` (name, model fields, input shape, test accuracy) and `params/` (an
Orbax checkpoint of the parameters): `save_classifier` writes it, `load_classifier` reads it.
"""

from __future__ import annotations

import json
import os
from typing import Any

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


METADATA_FILE = "classifier.json"
PARAMS_DIR = "params"


def build_model(model_config: Any) -> DigitCNN:
    kwargs = dict(model_config)
    if "widths" in kwargs:
        kwargs["widths"] = tuple(kwargs["widths"])
    return DigitCNN(**kwargs)


def save_classifier(directory: str, params: Any, metadata: dict[str, Any]) -> None:
    """Writes `params` and `metadata` (which must hold "model" and "input_shape")."""
    import orbax.checkpoint as ocp

    checkpointer = ocp.StandardCheckpointer()
    checkpointer.save(os.path.abspath(os.path.join(directory, PARAMS_DIR)), params, force=True)
    checkpointer.wait_until_finished()
    tmp = os.path.join(directory, METADATA_FILE + ".tmp")
    with open(tmp, "w") as f:
        json.dump(metadata, f, indent=2)
    os.replace(tmp, os.path.join(directory, METADATA_FILE))


def load_classifier(directory: str) -> tuple[DigitCNN, Any, dict[str, Any]]:
    """(model, params, metadata) of a classifier saved in `directory`."""
    import orbax.checkpoint as ocp

    with open(os.path.join(directory, METADATA_FILE)) as f:
        metadata = json.load(f)
    model = build_model(metadata["model"])
    shape = tuple(metadata["input_shape"])
    template = jax.eval_shape(lambda: model.init(jax.random.PRNGKey(0),
                                                 jnp.zeros((1, *shape)))["params"])
    params = ocp.StandardCheckpointer().restore(
        os.path.abspath(os.path.join(directory, PARAMS_DIR)), template)
    return model, params, metadata
