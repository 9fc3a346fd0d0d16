"""The classifier network and its fast layers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn

from gan_jax.eval.classifier import DigitCNN, max_pool_2x2
from gan_jax.models.conv import MatmulConv2D


def test_outputs_logits_and_features():
    model = DigitCNN(widths=(4, 8), feature_dim=16)
    x = jax.random.uniform(jax.random.PRNGKey(1), (3, 28, 28, 1), minval=-1.0)
    variables = model.init(jax.random.PRNGKey(0), x)
    logits, features = model.apply(variables, x)
    assert logits.shape == (3, 10) and features.shape == (3, 16)
    assert variables["params"]["conv0_0"]["kernel"].shape == (3, 3, 1, 4)
    assert (np.asarray(features) < 0).any()  # Pre-activations: no unit is dead by design.
    hidden = jax.nn.relu(features)
    head = variables["params"]["logits"]
    expected = hidden @ head["kernel"] + head["bias"]
    np.testing.assert_allclose(logits, expected, atol=1e-5)


@pytest.mark.parametrize("size", [(8, 8), (7, 9)])
def test_max_pool_matches_flax(size):
    x = jax.random.normal(jax.random.PRNGKey(0), (2, *size, 3))
    np.testing.assert_array_equal(max_pool_2x2(x), nn.max_pool(x, (2, 2), (2, 2)))


@pytest.mark.parametrize("kernel,padding", [((3, 3), "SAME"), ((5, 3), "VALID"),
                                            ((3, 3), ((2, 0), (1, 1)))])
def test_matmul_conv_matches_nn_conv_and_gradients(kernel, padding):
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 9, 8, 3))
    ours, ref = MatmulConv2D(5, kernel, padding=padding), nn.Conv(5, kernel, padding=padding)
    params = ref.init(jax.random.PRNGKey(2), x)
    np.testing.assert_allclose(ours.apply(params, x), ref.apply(params, x), atol=1e-5)

    def loss(module):
        return lambda p, x: jnp.sum(jnp.sin(module.apply(p, x)))

    g_ours = jax.grad(loss(ours), argnums=(0, 1))(params, x)
    g_ref = jax.grad(loss(ref), argnums=(0, 1))(params, x)
    for a, b in zip(jax.tree.leaves(g_ours), jax.tree.leaves(g_ref), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_matmul_conv_rejects_strides():
    with pytest.raises(ValueError, match="stride 1 only"):
        MatmulConv2D(2, strides=(2, 2)).init(jax.random.PRNGKey(0), jnp.zeros((1, 4, 4, 1)))
