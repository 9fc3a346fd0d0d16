"""The projector: its schedules and regulariser, and recovering images the generator made."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from gan_jax.config.registry import ConfigError
from gan_jax.eval import projection
from gan_jax.models import dcgan, stylegan
from gan_jax.models.latent import sample_latent

Z = 8


def sample_z(key, num):
    return sample_latent(key, num, Z, "normal")


@functools.cache
def style_generator(noise_strength: float = 0.0):
    g = stylegan.StyleGANGenerator(output_shape=(16, 16, 1), w_dim=Z, mapping_depth=2,
                                   width=8, max_width=16, mixing_prob=0.0)
    variables = g.init(jax.random.PRNGKey(0), jnp.zeros((1, Z)), train=False)
    flat = traverse_util.flatten_dict(variables["params"])
    flat = {k: jnp.full_like(v, noise_strength) if k[-1] == "noise_strength" else v
            for k, v in flat.items()}
    return g, {**variables, "params": traverse_util.unflatten_dict(flat)}


def test_learning_rate_ramps_as_stylegan2s_projector():
    s = projection.ProjectionSettings(steps=1000, initial_lr=0.1)
    lr = functools.partial(projection.learning_rate, settings=s)
    assert float(lr(0)) == 0.0
    assert float(lr(25)) == pytest.approx(0.05)  # Halfway up the 5% warm-up.
    assert float(lr(500)) == pytest.approx(0.1)
    # In the last 25%: 0.1 * (0.5 - 0.5 cos(pi (1 - t) / 0.25)).
    assert float(lr(875)) == pytest.approx(0.1 * (0.5 - 0.5 * math.cos(math.pi * 0.5)))
    assert float(projection.latent_noise_scale(0, s)) == pytest.approx(0.05)
    assert float(projection.latent_noise_scale(375, s)) == pytest.approx(0.05 * 0.25)
    assert float(projection.latent_noise_scale(800, s)) == 0.0


def test_noise_regulariser_is_small_for_white_noise_and_large_for_smooth_noise():
    white = jax.random.normal(jax.random.PRNGKey(0), (2, 32, 32, 1))
    smooth = jnp.broadcast_to(jnp.linspace(-2, 2, 32)[None, :, None, None], (2, 32, 32, 1))
    small = projection.noise_regulariser([white])
    large = projection.noise_regulariser([smooth])
    assert small.shape == (2,) and bool(jnp.all(small < 0.01))
    # Rows are constant: the shift along them correlates fully at every scale (32, 16, 8).
    assert bool(jnp.all(large > 1.0))
    # Its formula at one scale: (mean v * roll(v, 1, H))^2 + (mean v * roll(v, 1, W))^2.
    v = white[:, :8, :8]
    expected = sum(jnp.square(jnp.mean(v * jnp.roll(v, 1, axis), axis=(1, 2, 3)))
                   for axis in (1, 2))
    np.testing.assert_allclose(projection.noise_regulariser([v]), expected, rtol=1e-6)


@pytest.mark.parametrize("space", ["w", "w+"])
def test_projection_recovers_images_of_the_generator(space):
    """Targets G(w) for 3 random latents (noise strengths 0): from the mean w the projection
    cuts the pixel error from ~0.1-0.4 to 1e-3 of it in 300 steps in w, where it is exact,
    and below 2% of it in w+, with 6 times the unknowns."""
    g, variables = style_generator()
    z = jax.random.normal(jax.random.PRNGKey(1), (3, Z))
    targets = g.apply(variables, z, train=False)
    built = projection.build_space(g, variables, space, 3, jax.random.PRNGKey(2), sample_z,
                                   avg_samples=2000)
    layers = stylegan.num_ws((16, 16, 1))
    assert built.start.shape == ((3, 1, Z) if space == "w" else (3, layers, Z))
    assert [s for s in built.noise_shapes] == stylegan.noise_shapes((16, 16, 1))
    start_error = jnp.mean(jnp.square(built.image(built.start, None) - targets), (1, 2, 3))
    settings = projection.ProjectionSettings(steps=300, space=space, feature_weight=0.0)
    out = projection.project(built, targets, settings, jax.random.PRNGKey(3))
    assert bool(jnp.all(start_error > 0.05))
    bound = 1e-3 if space == "w" else 0.02
    assert bool(jnp.all(out["pixel"] < bound * start_error)), (start_error, out["pixel"])
    assert out["loss"].shape == (300,)
    # The noise maps come back normalised, one per layer and target.
    assert [v.shape for v in out["noise"]] == [(3, *s) for s in stylegan.noise_shapes((16, 16, 1))]
    for v in out["noise"]:
        np.testing.assert_allclose(jnp.std(v, axis=(1, 2, 3)), 1.0, rtol=1e-3)
    np.testing.assert_allclose(out["images"], built.image(out["latents"], out["noise"]),
                               atol=1e-5)


def test_z_projection_of_a_batch_norm_generator():
    g = dcgan.DCGANGenerator(output_shape=(16, 16, 1), width=8)
    variables = g.init(jax.random.PRNGKey(0), jnp.zeros((2, Z)), train=False)
    z = jax.random.normal(jax.random.PRNGKey(1), (2, Z))
    targets = g.apply(variables, z, train=False)
    built = projection.build_space(g, variables, "z", 2, jax.random.PRNGKey(2), sample_z,
                                   avg_samples=2000)
    assert built.noise_shapes == []
    start_error = jnp.mean(jnp.square(built.image(built.start, None) - targets), (1, 2, 3))
    settings = projection.ProjectionSettings(steps=300, space="z", feature_weight=0.0)
    out = projection.project(built, targets, settings, jax.random.PRNGKey(3))
    assert bool(jnp.all(out["pixel"] < 0.05 * start_error)), (start_error, out["pixel"])


def test_feature_distance_enters_the_loss():
    """With features only, the projection moves the features towards the target's."""
    g, variables = style_generator()
    targets = g.apply(variables, jax.random.normal(jax.random.PRNGKey(1), (2, Z)),
                      train=False)

    def features(images):  # A fixed random linear map of the pixels.
        weights = jax.random.normal(jax.random.PRNGKey(9), (16 * 16, 32))
        return images.reshape(images.shape[0], -1) @ weights

    built = projection.build_space(g, variables, "w", 2, jax.random.PRNGKey(2), sample_z,
                                   avg_samples=500)
    settings = projection.ProjectionSettings(steps=200, pixel_weight=0.0)
    start = projection.distances(built.image(built.start, None), targets, features,
                                 projection._unit(features(targets)))[1]
    out = projection.project(built, targets, settings, jax.random.PRNGKey(3), features)
    assert bool(jnp.all(out["feature"] < 0.05 * start)), (start, out["feature"])


@pytest.mark.parametrize("changes, style_based, message", [
    (dict(space="s"), True, "--space: 's' is not one of w, w\\+, z"),
    (dict(space="w"), False, "needs a style-based generator; .*use --space z"),
    (dict(pixel_weight=0.0, feature_weight=0.0), True, "not both 0"),
])
def test_bad_settings_are_refused(changes, style_based, message):
    with pytest.raises(ConfigError, match=message):
        projection.ProjectionSettings(**changes).check(style_based)
