"""SNGAN's residual players: the published layouts at 32 and 64, and their checks."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ml_collections import ConfigDict

from gan_jax import models
from gan_jax.config.registry import ConfigError


def shapes(module, *inputs):
    variables = jax.eval_shape(functools.partial(module.init, train=False),
                               jax.random.PRNGKey(0), *inputs)
    return jax.tree.map(lambda v: v.shape, variables)


def test_sngan_cifar_layout():
    generator = models.build_generator(ConfigDict(dict(name="resnet", width=256)), (32, 32, 3))
    params = shapes(generator, jnp.zeros((1, 128)))["params"]
    assert params["project"]["kernel"] == (128, 4 * 4 * 256)
    assert [k for k in params if k.endswith("_conv1")] == [f"block{i}_conv1" for i in (1, 2, 3)]
    assert params["out_conv"]["kernel"] == (3, 3, 256, 3)
    discriminator = models.build_discriminator(ConfigDict(dict(name="resnet", width=128)))
    variables = shapes(discriminator, jnp.zeros((1, 32, 32, 3)))
    assert variables["params"]["block1_conv1"]["kernel"] == (3, 3, 3, 128)
    assert "block3_shortcut" not in variables["params"]  # Same shape: identity shortcut.
    # Spectral norm on every layer of D by default, as in SNGAN.
    assert len(variables["spectral"]) == len(variables["params"])


def test_sngan_64_layout():
    generator = models.build_generator(
        ConfigDict(dict(name="resnet", width=4, multipliers=(16, 8, 4, 2, 1))), (64, 64, 3))
    z = jnp.zeros((2, 16))
    variables = jax.eval_shape(functools.partial(generator.init, train=False),
                               jax.random.PRNGKey(1), z)
    assert variables["params"]["project"]["kernel"].shape == (16, 4 * 4 * 64)
    assert variables["params"]["block4_conv2"]["kernel"].shape == (3, 3, 4, 4)
    images = jax.eval_shape(functools.partial(generator.apply, train=False), variables, z)
    assert images.shape == (2, 64, 64, 3) and images.dtype == jnp.float32
    discriminator = models.build_discriminator(ConfigDict(dict(
        name="resnet", width=4, multipliers=(1, 2, 4, 8, 16), downsample=4)))
    params = shapes(discriminator, jnp.zeros((1, 64, 64, 3)))["params"]
    assert params["logit"]["kernel"] == (64, 1)


def test_bad_layouts_name_the_key():
    with pytest.raises(ConfigError, match="model.generator.multipliers: 32x32 images take 3 "
                       "up-blocks from 4x4, so 4 multipliers"):
        models.build_generator(ConfigDict(dict(name="resnet", multipliers=(1, 1))), (32, 32, 3))
    with pytest.raises(ConfigError, match="model.discriminator.downsample: 3 down-sampling "
                       "blocks, but only 2 blocks"):
        models.build_discriminator(ConfigDict(dict(name="resnet", multipliers=(1, 1),
                                                   downsample=3)))
    discriminator = models.build_discriminator(ConfigDict(dict(name="resnet", downsample=3)))
    with pytest.raises(ConfigError, match="block 3 would halve a 7x7 input"):
        jax.eval_shape(discriminator.init, jax.random.PRNGKey(0), jnp.zeros((1, 28, 28, 1)))
    with pytest.raises(ConfigError, match="model.generator.norm: conditioning 'cbn' needs"):
        models.build_generator(ConfigDict(dict(name="resnet", norm="none")), (32, 32, 3),
                               num_classes=10)


def test_residual_blocks_pass_the_shortcut():
    """With every residual branch's last convolution at zero, D's features are its
    shortcuts: pooled (and 1x1-projected) inputs."""
    discriminator = models.build_discriminator(ConfigDict(dict(
        name="resnet", width=2, multipliers=(1,), downsample=1, spectral_norm="none")))
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 1))
    variables = discriminator.init(jax.random.PRNGKey(1), x, train=False)
    params = jax.tree.map(np.asarray, variables["params"])
    params["block1_conv2"]["kernel"] = np.zeros_like(params["block1_conv2"]["kernel"])
    params["block1_conv2"]["bias"] = np.zeros_like(params["block1_conv2"]["bias"])
    logits = discriminator.apply({"params": params}, x, train=False)
    pooled = x.reshape(2, 2, 2, 2, 2, 1).mean(axis=(2, 4))
    shortcut = params["block1_shortcut"]
    features = jnp.einsum("bhwc,cd->bhwd", pooled, shortcut["kernel"][0, 0]) + shortcut["bias"]
    expected = jnp.sum(jax.nn.relu(features), axis=(1, 2)) @ params["logit"]["kernel"]
    np.testing.assert_allclose(logits, expected[:, 0] + params["logit"]["bias"][0],
                               rtol=1e-5, atol=1e-6)
