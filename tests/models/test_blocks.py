"""Shared options of the convolutional families: spectral normalisation, the normalisation
choices, and self-attention."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn
from ml_collections import ConfigDict

from gan_jax import models
from gan_jax.config.registry import ConfigError
from gan_jax.models.blocks import (
    NORMS,
    SPECTRAL_COLLECTION,
    SelfAttention,
    maybe_spectral,
    spectral_kinds,
)
from gan_jax.models.conv import Conv2D


class Normalised(nn.Module):
    """One layer under spectral norm, with `iterations` power iterations per call."""

    layer: str
    iterations: int = 1

    @nn.compact
    def __call__(self, x, train):
        if self.layer == "dense":
            layer = nn.Dense(7, name="layer")
        else:
            layer = Conv2D(6, (3, 3), name="layer")
        return maybe_spectral(layer, self.layer, "all", self.iterations, train)(x)


@pytest.mark.parametrize("layer, shape", [("dense", (2, 5)), ("conv", (2, 6, 6, 4))])
def test_spectral_norm_estimate_matches_the_largest_singular_value(layer, shape):
    module = Normalised(layer)
    x = jax.random.normal(jax.random.PRNGKey(0), shape)
    variables = module.init(jax.random.PRNGKey(1), x, train=False)
    kernel = np.asarray(variables["params"]["layer"]["kernel"])
    matrix = kernel.reshape(-1, kernel.shape[-1])
    largest = np.linalg.svd(matrix, compute_uv=False)[0]

    @jax.jit
    def train_call(state):
        return module.apply({**variables, **state}, x, train=True, mutable=[SPECTRAL_COLLECTION])

    state = {SPECTRAL_COLLECTION: variables[SPECTRAL_COLLECTION]}
    for _ in range(50):  # One power iteration per training call, as in training.
        _, state = train_call(state)
    sigma = float(state[SPECTRAL_COLLECTION]["layer_sn"]["layer/kernel/sigma"])
    assert abs(sigma / largest - 1) < 0.01
    # The layer computes with kernel / sigma, whose spectral norm is then ~1: recover that
    # kernel from the layer's response to unit inputs (dense) or compare outputs (conv).
    out = module.apply({**variables, **state}, x, train=False)
    raw = Normalised(layer, iterations=0).apply(variables, x, train=False)
    bias = np.asarray(variables["params"]["layer"]["bias"])
    np.testing.assert_allclose(np.asarray(out) - bias, (np.asarray(raw) - bias) / largest,
                               rtol=0.02, atol=1e-5)
    assert abs(np.linalg.svd(matrix / sigma, compute_uv=False)[0] - 1) < 0.01


def test_power_iteration_state_changes_only_in_training_calls():
    module = Normalised("dense")
    x = jnp.ones((2, 5))
    variables = module.init(jax.random.PRNGKey(1), x, train=False)
    _, unchanged = module.apply(variables, x, train=False, mutable=[SPECTRAL_COLLECTION])
    _, updated = module.apply(variables, x, train=True, mutable=[SPECTRAL_COLLECTION])
    before = variables[SPECTRAL_COLLECTION]["layer_sn"]["layer/kernel/u"]
    np.testing.assert_array_equal(unchanged[SPECTRAL_COLLECTION]["layer_sn"]["layer/kernel/u"],
                                  before)
    assert not np.allclose(updated[SPECTRAL_COLLECTION]["layer_sn"]["layer/kernel/u"], before)


def test_attention_with_a_closed_gate_is_the_identity_and_sees_distant_pixels():
    block = SelfAttention(reduction=2)
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 6, 6, 8))
    variables = block.init(jax.random.PRNGKey(1), x)
    assert float(variables["params"]["gate"]) == 0.0
    np.testing.assert_array_equal(block.apply(variables, x), x)
    opened = {"params": {**variables["params"], "gate": jnp.ones(())}}
    far = x.at[:, 0, 0, :].add(3.0)  # Perturb one corner pixel...
    before, after = block.apply(opened, x), block.apply(opened, far)
    # ... and the opposite corner's output changes, as no convolution could make it.
    assert float(jnp.max(jnp.abs(after[:, -1, -1] - before[:, -1, -1]))) > 1e-3


FAMILY_FIELDS = {  # Tiny settings of each family that takes `norm`, at 8 x 8.
    "dcgan": (dict(width=4), dict(width=4)),
    "resnet": (dict(width=4), dict(width=4, multipliers=(1, 1), downsample=1)),
}


@pytest.mark.parametrize("family", sorted(FAMILY_FIELDS))
@pytest.mark.parametrize("norm", NORMS)
def test_every_normalisation_runs_in_both_players(family, norm):
    g_fields, d_fields = FAMILY_FIELDS[family]
    generator = models.build_generator(ConfigDict(dict(name=family, norm=norm, **g_fields)),
                                       (8, 8, 1))
    discriminator = models.build_discriminator(
        ConfigDict(dict(name=family, norm=norm, **d_fields)))
    z, x = jnp.ones((4, 3)), jax.random.normal(jax.random.PRNGKey(0), (4, 8, 8, 1))
    g_vars = generator.init(jax.random.PRNGKey(1), z, train=False)
    d_vars = discriminator.init(jax.random.PRNGKey(2), x, train=False)
    mutable = ["batch_stats", SPECTRAL_COLLECTION]
    fake, _ = generator.apply(g_vars, z, train=True, mutable=mutable)
    logits, _ = discriminator.apply(d_vars, fake, train=True, mutable=mutable)
    assert fake.shape == (4, 8, 8, 1) and logits.shape == (4,)
    assert np.all(np.isfinite(fake)) and np.all(np.isfinite(logits))
    assert ("batch_stats" in g_vars) == (norm == "batch")


def test_bad_options_get_one_line_naming_the_key():
    with pytest.raises(ConfigError, match="model.discriminator.spectral_norm: spectral norm "
                       "cannot be applied to 'norm' layers; layer types that take it: dense, "
                       "conv, embed"):
        models.build_discriminator(ConfigDict(dict(name="dcgan", spectral_norm="conv,norm")))
    with pytest.raises(ConfigError, match="model.generator.norm: 'weight' is not one of batch, "
                       "instance, layer, group, none"):
        models.build_generator(ConfigDict(dict(name="resnet", norm="weight")), (32, 32, 3))
    with pytest.raises(ConfigError, match="model.generator.attention: the model never works at "
                       "12x12; its resolutions are 4, 8, 16"):
        models.build_generator(ConfigDict(dict(name="dcgan", attention=12)), (32, 32, 3))
    # D learns its input size when called: the error comes at initialisation, before training.
    discriminator = models.build_discriminator(ConfigDict(dict(name="resnet", attention=5)))
    with pytest.raises(ConfigError, match="model.discriminator.attention: the model never works "
                       "at 5x5; its resolutions are 8, 16"):
        jax.eval_shape(discriminator.init, jax.random.PRNGKey(0), jnp.zeros((1, 32, 32, 3)))
    with pytest.raises(ConfigError, match="model.generator.dtype: derived"):
        models.build_generator(ConfigDict(dict(name="dcgan", dtype="bfloat16")), (32, 32, 3))
    assert spectral_kinds("all", "k") == {"dense", "conv", "embed"}
    assert spectral_kinds("none", "k") == frozenset()
