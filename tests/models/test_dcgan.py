"""DCGAN shapes at each resolution, BatchNorm modes, and size checks."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.config.registry import ConfigError
from gan_jax.models import build_discriminator, build_generator
from gan_jax.models.dcgan import DCGANDiscriminator, DCGANGenerator, resolution_plan


def jitted(method, train: bool = False):
    """`method` (a module's init or apply) with `train` fixed, compiled as one program: much
    faster to compile than running its operations one by one."""
    return jax.jit(functools.partial(method, train=train))


@pytest.mark.parametrize("size,channels,base,doublings", [
    (28, 1, 7, 2), (32, 3, 4, 3), (64, 3, 4, 4), (48, 3, 6, 3)])
def test_shapes_at_each_resolution(size, channels, base, doublings):
    assert resolution_plan(size, "x") == (base, doublings)
    generator = DCGANGenerator((size, size, channels), width=8)
    z = jax.random.normal(jax.random.PRNGKey(0), (3, 16))
    variables = jitted(generator.init)(jax.random.PRNGKey(1), z)
    images = jitted(generator.apply)(variables, z)
    assert images.shape == (3, size, size, channels)
    assert float(jnp.abs(images).max()) <= 1.0
    discriminator = DCGANDiscriminator(width=8)
    d_vars = jitted(discriminator.init)(jax.random.PRNGKey(2), images)
    assert jitted(discriminator.apply)(d_vars, images).shape == (3,)
    # The first feature map of G has width * 2**(k-1) channels, like DCGAN's 4x4x(8*ngf).
    assert variables["params"]["project"]["kernel"].shape == (16, base * base * 8 * 2 ** (
        doublings - 1))
    # No BatchNorm on D's input layer: k-1 BatchNorms for k convolutions.
    assert len(d_vars["batch_stats"]) == doublings - 1


@pytest.mark.parametrize("upsample", ["nearest", "bilinear"])
def test_resize_then_convolve_upsampling(upsample):
    generator = DCGANGenerator((32, 32, 3), width=8, upsample=upsample)
    z = jnp.ones((2, 16))
    variables = jitted(generator.init)(jax.random.PRNGKey(0), z)
    assert jitted(generator.apply)(variables, z).shape == (2, 32, 32, 3)
    assert variables["params"]["up1"]["kernel"].shape[:2] == (3, 3)  # A plain 3x3 conv.


def test_sub_pixel_and_lax_transpose_give_the_same_generator():
    z = jax.random.normal(jax.random.PRNGKey(0), (4, 16))
    fast = DCGANGenerator((32, 32, 3), width=8, transpose_impl="sub_pixel")
    slow = DCGANGenerator((32, 32, 3), width=8, transpose_impl="lax")
    variables = jitted(fast.init)(jax.random.PRNGKey(1), z)
    np.testing.assert_allclose(jitted(fast.apply)(variables, z),
                               jitted(slow.apply)(variables, z), atol=1e-5)


def test_weights_are_drawn_from_n_0_002():
    generator = DCGANGenerator((32, 32, 3), width=32)
    params = jitted(generator.init)(jax.random.PRNGKey(0), jnp.ones((1, 100)))["params"]
    kernel = np.asarray(params["up1"]["kernel"])  # 4*4*128*64 draws: std's s.e. is 1e-4.
    assert abs(kernel.mean()) < 1e-3 and abs(kernel.std() - 0.02) < 1e-3


def test_batch_norm_train_and_eval_modes():
    generator = DCGANGenerator((28, 28, 1), width=8)
    z = jax.random.normal(jax.random.PRNGKey(0), (8, 16))
    variables = generator.init(jax.random.PRNGKey(1), z, train=False)
    # Train mode normalises with the batch and returns moved running statistics.
    _, updated = generator.apply(variables, z, train=True, mutable=["batch_stats"])
    before, after = (jax.tree.leaves(v) for v in (variables["batch_stats"],
                                                  updated["batch_stats"]))
    assert any(not np.allclose(a, b) for a, b in zip(before, after, strict=True))
    # Eval mode uses the running statistics: a sample does not depend on its batch.
    alone = generator.apply(variables, z[:1], train=False)
    together = generator.apply(variables, z, train=False)[:1]
    np.testing.assert_allclose(alone, together, atol=1e-6)
    in_train = generator.apply(variables, z, train=True, mutable=["batch_stats"])[0][:1]
    assert not np.allclose(in_train, together, atol=1e-3)


@pytest.mark.parametrize("size", [30, 7, 100])
def test_sizes_dcgan_cannot_build_are_rejected_by_name(size):
    with pytest.raises(ConfigError, match=f"image size {size}"):
        build_generator({"name": "dcgan"}, (size, size, 3))


def test_bad_generator_settings_are_rejected():
    with pytest.raises(ConfigError, match="upsample"):
        build_generator({"name": "dcgan", "upsample": "cubic"}, (32, 32, 3))
    with pytest.raises(ConfigError, match="a 32x100 image cannot be built"):
        build_generator({"name": "dcgan"}, (32, 100, 3))
    with pytest.raises(ConfigError, match="width"):
        build_discriminator({"name": "dcgan", "width": "wide"})


@pytest.mark.parametrize("name", ["dcgan", "resnet", "biggan"])
@pytest.mark.parametrize("shape, start", [((32, 64, 3), (4, 8)), ((48, 24, 1), (12, 6)),
                                          ((28, 28, 1), (7, 7))])
def test_families_build_non_square_images_from_a_rectangular_start(name, shape, start):
    """H x W = b_h 2**k x b_w 2**k: the projection starts at b_h x b_w and D reads the
    rectangle; square sizes keep their plan."""
    from ml_collections import ConfigDict

    from gan_jax import models
    from gan_jax.models.dcgan import image_plan

    assert image_plan(shape, "model.generator")[0] == start
    fields = ConfigDict(dict(name=name, width=4, **({"multipliers": ()} if name != "dcgan"
                                                     else {})))
    generator = models.build_generator(fields, shape)
    z = jnp.zeros((2, 24))
    variables = generator.init(jax.random.PRNGKey(0), z, train=False)
    images = generator.apply(variables, z, train=False)
    assert images.shape == (2, *shape)
    discriminator = models.build_discriminator(ConfigDict(dict(name=name, width=4)))
    d_vars = discriminator.init(jax.random.PRNGKey(1), images, train=False)
    assert discriminator.apply(d_vars, images, train=False).shape == (2,)


def test_a_rectangle_no_plan_builds_is_refused_in_one_line():
    from gan_jax.config.registry import ConfigError
    from gan_jax.models.dcgan import image_plan

    with pytest.raises(ConfigError, match="a 28x100 image cannot be built by these models"):
        image_plan((28, 100, 1), "model.generator")
