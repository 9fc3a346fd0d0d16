"""DiffAugment: each operation's effect, differentiability and seeding."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.config import base_config
from gan_jax.config.registry import ConfigError
from gan_jax.training import augment

ALL = ("color", "translation", "cutout")


def images(batch=4, size=16, channels=3):
    return jax.random.uniform(jax.random.PRNGKey(0), (batch, size, size, channels), minval=-1,
                              maxval=1)


def test_off_by_default_and_the_empty_policy_is_the_identity():
    assert base_config().train.diff_augment == ""
    assert augment.parse_policy("") == ()
    x = images()
    np.testing.assert_array_equal(augment.apply(x, augment.draw((), jax.random.PRNGKey(1), 4,
                                                                x.shape[1:])), x)


def test_translation_moves_content_and_fills_with_zeros():
    x = images(batch=2)
    params = {"translation": jnp.array([[2, -1], [0, 0]])}
    out = augment.apply(x, params)
    np.testing.assert_array_equal(out[0, 2:, :-1], x[0, :-2, 1:])
    np.testing.assert_array_equal(out[0, :2], 0.0)
    np.testing.assert_array_equal(out[0, :, -1], 0.0)
    np.testing.assert_array_equal(out[1], x[1])
    shifts = augment.draw(("translation",), jax.random.PRNGKey(2), 256, (16, 16, 3))
    assert int(jnp.max(jnp.abs(shifts["translation"]))) == 2  # 1/8 of 16.


def test_cutout_zeroes_one_square_of_half_the_size():
    x = images(batch=1) + 2.0  # No zeros of its own.
    out = augment.apply(x, {"cutout": jnp.array([[8, 8]])})
    zeroed = np.asarray(out[0, :, :, 0] == 0)
    assert zeroed.sum() == 8 * 8 and zeroed[4:12, 4:12].all()
    # Centred at (0, 15): rows -4..3 and columns 11..18, clipped to rows 0..3, columns 11..15.
    corner = np.asarray(augment.apply(x, {"cutout": jnp.array([[0, 15]])})[0, :, :, 0] == 0)
    assert corner.sum() == 4 * 5 and corner[:4, 11:].all()


def test_color_changes_brightness_saturation_and_contrast():
    x = images()
    neutral = jnp.full((4, 3), 0.5)  # Brightness +0, saturation x1, contrast x1.
    np.testing.assert_allclose(augment.apply(x, {"color": neutral}), x, atol=1e-6)
    brighter = neutral.at[:, 0].set(1.0)
    np.testing.assert_allclose(augment.apply(x, {"color": brighter}), x + 0.5, atol=1e-6)
    grey = neutral.at[:, 1].set(0.0)  # Saturation 0: every channel at the pixel's mean.
    out = augment.apply(x, {"color": grey})
    np.testing.assert_allclose(out, jnp.broadcast_to(x.mean(-1, keepdims=True), x.shape),
                               atol=1e-6)


def test_differentiable_and_seeded():
    x = images()
    draw = lambda key: augment.draw(ALL, key, 4, x.shape[1:])  # noqa: E731
    params = draw(jax.random.PRNGKey(3))
    grad = jax.grad(lambda x: jnp.sum(augment.apply(x, params) ** 2))(x)
    assert np.all(np.isfinite(grad)) and float(jnp.mean(jnp.abs(grad))) > 0
    same = augment.apply(x, draw(jax.random.PRNGKey(3)))
    np.testing.assert_array_equal(augment.apply(x, params), same)
    assert not np.allclose(augment.apply(x, draw(jax.random.PRNGKey(4))), same)


def test_unknown_or_repeated_operations_are_named():
    with pytest.raises(ConfigError, match="train.diff_augment: unknown augmentation 'flip'; "
                       "known: color, translation, cutout"):
        augment.parse_policy("color,flip")
    with pytest.raises(ConfigError, match="names an augmentation twice"):
        augment.parse_policy("cutout,cutout")
