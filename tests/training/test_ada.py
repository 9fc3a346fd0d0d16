"""ADA's transforms: shapes, the identity at p = 0, gradients, and known pixel moves."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.config import ConfigError
from gan_jax.training import ada

IMAGE_SHAPE = (9, 9, 3)


def _images(channels=3, batch=4, size=9):
    return jax.random.uniform(jax.random.PRNGKey(1), (batch, size, size, channels),
                              minval=-1.0, maxval=1.0)


@pytest.mark.parametrize("name", ada.TRANSFORMS)
def test_each_transform_keeps_shapes_is_the_identity_at_p0_and_passes_gradients(name):
    x = _images()
    pipeline = ada.parse_pipeline(name)
    at_zero = ada.apply(x, ada.draw(pipeline, jax.random.PRNGKey(0), jnp.float32(0.0), 4,
                                    IMAGE_SHAPE))
    np.testing.assert_allclose(at_zero, x, atol=1e-6)
    params = ada.draw(pipeline, jax.random.PRNGKey(0), jnp.float32(0.99), 4, IMAGE_SHAPE)
    y = ada.apply(x, params)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert float(jnp.max(jnp.abs(y - x))) > 1e-3  # It did something at p near 1.
    # Gradients reach the input (so G): for a weighted sum, the transform's transpose.
    weights = jax.random.normal(jax.random.PRNGKey(2), x.shape)
    grad = jax.grad(lambda images: jnp.sum(weights * ada.apply(images, params)))(x)
    assert np.all(np.isfinite(grad)) and float(jnp.abs(grad).sum()) > 0


def test_the_whole_pipeline_on_grey_and_colour_images():
    for channels in (1, 3):
        x = _images(channels)
        params = ada.draw(ada.parse_pipeline("bgc"), jax.random.PRNGKey(3), jnp.float32(0.5),
                          4, x.shape[1:])
        assert ada.apply(x, params).shape == x.shape


def _one_pixel(row, col, size=9):
    return jnp.zeros((1, size, size, 1)).at[0, row, col, 0].set(1.0)


def _geometry(inverse):
    return {"geometry": inverse[None]}


def test_an_integer_translation_moves_a_pixel_by_its_offset():
    # The inverse of a shift by (+2 in x, -1 in y): output (r, c) reads input (r + 1, c - 2).
    moved = ada.apply(_one_pixel(4, 3), _geometry(ada._translate2d(-2.0, 1.0)[0]))
    expected = _one_pixel(3, 5)
    np.testing.assert_allclose(moved, expected, atol=1e-6)


def test_flip_and_quarter_turn_move_pixels_as_numpy_does():
    image = np.asarray(_images(1, 1)[0, ..., 0])
    flipped = ada.apply(jnp.asarray(image)[None, ..., None], _geometry(ada._scale2d(-1.0, 1.0)[0]))
    np.testing.assert_allclose(flipped[0, ..., 0], image[:, ::-1], atol=1e-6)
    # The inverse of a counter-clockwise quarter turn (on screen, y down) is a turn by +pi/2.
    turned = ada.apply(jnp.asarray(image)[None, ..., None],
                       _geometry(ada._rotate2d(jnp.float32(np.pi / 2))[0]))
    np.testing.assert_allclose(turned[0, ..., 0], np.rot90(image), atol=1e-5)


def test_isotropic_scaling_about_the_centre_and_mirrored_borders():
    # Zooming in by 2: output (r, c) reads (4 + (r - 4) / 2, 4 + (c - 4) / 2), so the pixel at
    # (5, 5) lands on (6, 6) and spreads bilinearly to its neighbours.
    zoomed = ada.apply(_one_pixel(5, 5), _geometry(ada._scale2d(0.5, 0.5)[0]))
    assert float(zoomed[0, 6, 6, 0]) == pytest.approx(1.0)
    assert float(zoomed[0, 5, 5, 0]) == pytest.approx(0.25)
    # A shift of 1 to the right mirrors column 1 into column 0 (reflection without repeat).
    image = _images(1, 1)
    shifted = ada.apply(image, _geometry(ada._translate2d(-1.0, 0.0)[0]))
    np.testing.assert_allclose(shifted[0, :, 0], image[0, :, 1], atol=1e-6)
    np.testing.assert_allclose(shifted[0, :, 1:], image[0, :, :-1], atol=1e-6)


def test_colour_matrices_act_as_their_formulas():
    x = _images()
    b = jnp.array([0.3, -0.2, 0.0, 0.1])
    brightened = ada.apply(x, {"color": ada._translate3d(b)})
    np.testing.assert_allclose(brightened, x + b[:, None, None, None], atol=1e-6)
    # The luma flip mirrors each pixel along (1, 1, 1) / sqrt(3): grey values change sign.
    v = np.full(3, 1 / np.sqrt(3))
    flip = np.eye(4)
    flip[:3, :3] -= 2 * np.outer(v, v)
    grey = jnp.full((1, 2, 2, 3), 0.4)
    out = ada.apply(grey, {"color": jnp.asarray(flip[None], jnp.float32)})
    np.testing.assert_allclose(out, -grey, atol=1e-6)
    # A hue rotation keeps the luma (mean of the channels) of every pixel.
    hue = ada._rotate3d(ada.LUMA_AXIS, jnp.full((4,), 1.0))
    np.testing.assert_allclose(jnp.mean(ada.apply(x, {"color": hue}), -1), jnp.mean(x, -1),
                               atol=1e-5)


def test_pipelines_are_parsed_by_group_and_name_with_clear_errors():
    assert ada.parse_pipeline("bgc") == ada.TRANSFORMS
    assert ada.parse_pipeline("hue, blit") == ("xflip", "rotate90", "xint", "hue")
    assert ada.parse_pipeline("") == ()
    with pytest.raises(ConfigError, match=r"ada.pipeline: unknown transform 'huee'; known: "
                                          r"groups blit, geom, color, bgc"):
        ada.parse_pipeline("blit,huee")
    with pytest.raises(ConfigError, match="names a transform twice"):
        ada.parse_pipeline("blit,xflip")
