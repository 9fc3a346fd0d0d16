"""Perceptual path length: the distance it takes and the outliers it drops."""

import jax.numpy as jnp
import numpy as np

from gan_jax.eval import path_length
from gan_jax.eval.extractors import FeatureExtractor

PIXELS = FeatureExtractor("pixels", 1, "none",
                          lambda x: (jnp.reshape(x, (x.shape[0], -1)), None))


def test_path_length_is_the_squared_feature_distance_over_epsilon_squared():
    rng = np.random.default_rng(0)
    a = rng.uniform(-0.5, 0.5, (5, 4, 4, 1)).astype(np.float32)
    direction = rng.normal(size=(5, 4, 4, 1)).astype(np.float32)
    epsilon = 1e-2

    def make_pairs(start, size):
        rows = slice(start, start + size)
        return a[rows], a[rows] + epsilon * direction[rows]

    lengths = path_length.path_lengths(PIXELS, make_pairs, 5, batch_size=2, epsilon=epsilon)
    # Features are pixels in [0, 255]: the image step scaled by 127.5.
    expected = np.sum(np.square(127.5 * direction), axis=(1, 2, 3))
    np.testing.assert_allclose(lengths, expected, rtol=1e-3)


def test_outliers_beyond_the_1st_and_99th_percentiles_are_dropped():
    lengths = np.concatenate([np.full(98, 2.0), [1e9, -1e9]])
    assert path_length.perceptual_path_length(lengths) == 2.0
    assert path_length.perceptual_path_length(np.arange(1.0, 202.0)) == 101.0
