"""The U-Net generator and the PatchGAN discriminator: shapes, skips, receptive fields."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.config.registry import ConfigError
from gan_jax.models.pix2pix import (
    PatchDiscriminator,
    UNetGenerator,
    patch_layers,
    receptive_field,
)

RNGS = {"params": jax.random.PRNGKey(0), "dropout": jax.random.PRNGKey(1)}


@pytest.mark.parametrize("side", [32, 64, 256])
def test_unet_maps_an_image_to_an_image_of_the_output_shape(side):
    generator = UNetGenerator((side, side, 3), width=4)
    generator.check_config()
    x = jnp.zeros((2, side, side, 1))
    variables = jax.eval_shape(lambda: generator.init(RNGS, x, train=False))
    out = jax.eval_shape(lambda v: generator.apply(v, x, train=True, rngs=RNGS,
                                                   mutable=["batch_stats"])[0], variables)
    assert out.shape == (2, side, side, 3)
    assert generator.levels() == side.bit_length() - 1  # Down to 1x1.


def test_skip_connections_carry_the_input_past_a_zeroed_bottleneck():
    generator = UNetGenerator((16, 16, 1), width=2, norm="none", dropout_at_sampling=False)
    x = jax.random.normal(jax.random.PRNGKey(2), (1, 16, 16, 1))
    params = jax.jit(functools.partial(generator.init, train=False))(RNGS, x)["params"]
    innermost = f"down{generator.levels() - 1}"
    params = {**params, innermost: jax.tree.map(jnp.zeros_like, params[innermost])}

    @jax.jit
    def run(inputs):
        return generator.apply({"params": params}, inputs, train=False)

    # The bottleneck is zero whatever the input...
    _, bottleneck = generator.apply({"params": params}, x, train=False,
                                    capture_intermediates=lambda m, _: m.name == innermost,
                                    mutable=["intermediates"])
    assert float(jnp.max(jnp.abs(bottleneck["intermediates"][innermost]["__call__"][0]))) == 0
    # ... yet a local change of the input changes the output there, through the skips.
    changed = x.at[:, 2:4, 2:4].add(3.0)
    difference = np.abs(np.asarray(run(changed) - run(x)))[0, ..., 0]
    assert difference[1:5, 1:5].max() > 1e-3
    # Far away nothing moves (up to float32 rounding): no path around the local skips.
    assert difference[12:, 12:].max() < 1e-6


def test_decoder_dropout_is_noise_at_sampling_only_when_asked():
    x = jnp.ones((2, 8, 8, 1))
    for at_sampling, differ in ((True, True), (False, False)):
        generator = UNetGenerator((8, 8, 1), width=2, dropout_layers=2,
                                  dropout_at_sampling=at_sampling)
        variables = generator.init(RNGS, x, train=False)
        outputs = [generator.apply(variables, x, train=False,
                                   rngs={"dropout": jax.random.PRNGKey(k)}) for k in (5, 6)]
        assert bool(jnp.any(outputs[0] != outputs[1])) == differ


def measured_receptive_field(discriminator, side: int) -> tuple[int, tuple[int, int]]:
    """The width of the input window the centre logit depends on, and the logit map's size."""
    x = jax.random.normal(jax.random.PRNGKey(3), (1, side, side, 1))
    variables = jax.jit(functools.partial(discriminator.init, train=False))(
        jax.random.PRNGKey(4), x, x)
    logits = jax.eval_shape(functools.partial(discriminator.apply, train=False), variables, x, x)
    h, w = logits.shape[1:]
    grad = jax.jit(jax.grad(lambda image: discriminator.apply(variables, image, image,
                                                              train=False)[0, h // 2, w // 2]))(x)
    columns = np.nonzero(np.any(np.asarray(grad[0, ..., 0]) != 0, axis=0))[0]
    return int(columns.max() - columns.min() + 1), (h, w)


@pytest.mark.parametrize("patch", [1, 16, 70])
def test_patchgan_receptive_field_and_map_size_match_the_config(patch):
    side = 96  # The centre logit's field lies inside the image for every patch tested.
    discriminator = PatchDiscriminator(width=2, patch=patch, norm="none")
    field, (h, w) = measured_receptive_field(discriminator, side)
    assert field == patch == receptive_field(patch_layers(patch, side))
    layers = patch_layers(patch, side)
    expected = side if layers == 0 else side // 2**layers - 2
    assert (h, w) == (expected, expected)


def test_patch_zero_covers_the_whole_image_and_bad_patches_are_named():
    assert receptive_field(patch_layers(0, 32)) == 34
    assert receptive_field(patch_layers(0, 256)) == 286  # The paper's ImageGAN.
    with pytest.raises(ConfigError, match="patch: 50 is not a PatchGAN receptive field; "
                                          "choose one of 1, 16, 34, 70"):
        PatchDiscriminator(patch=50).check_config()
    x = jnp.zeros((1, 32, 32, 1))
    with pytest.raises(ConfigError, match="a 142x142 PatchGAN has no output on 32x32"):
        PatchDiscriminator(patch=142).init(jax.random.PRNGKey(0), x, x)
