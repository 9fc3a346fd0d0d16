import jax
import numpy as np
import pytest
from ml_collections import ConfigDict

from gan_jax.config.registry import ConfigError
from gan_jax.data import DATASETS, build_dataset, mixtures


def test_ring_has_eight_distinct_centres_on_the_unit_circle():
    centres = mixtures.ring().centres
    assert centres.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 1.0, atol=1e-12)
    angles = np.sort(np.mod(np.arctan2(centres[:, 1], centres[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(angles, 2 * np.pi * np.arange(8) / 8, atol=1e-12)
    # The Unrolled-GAN notebook bug (linspace with the endpoint) would repeat angle 0.
    assert len(np.unique(np.round(centres, 9), axis=0)) == 8


def test_grid_has_25_centres_on_even_coordinates():
    mixture = mixtures.grid()
    assert mixture.std == 0.05
    expected = {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert {tuple(c) for c in np.round(mixture.centres).astype(int)} == expected
    np.testing.assert_allclose(mixture.centres, np.round(mixture.centres), atol=1e-12)


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_samples_follow_the_mixture(name):
    mixture = DATASETS.get(name)()
    points = np.asarray(jax.jit(mixture.draw, static_argnums=1)(jax.random.PRNGKey(0), 50_000))
    assert points.dtype == np.float32 and points.shape == (50_000, 2)
    distances = np.linalg.norm(points[:, None] - mixture.centres[None], axis=-1)
    nearest = distances.argmin(1)
    # Equal weights: each of K modes gets N/K points, binomial std sqrt(N p (1-p)) < 220 here.
    counts = np.bincount(nearest, minlength=mixture.num_modes)
    assert np.all(np.abs(counts - 50_000 / mixture.num_modes) < 5 * 220)
    # Offsets from the centre are N(0, std^2) per coordinate: std estimated to within ~1%.
    offsets = points - mixture.centres[nearest]
    np.testing.assert_allclose(offsets.std(0), mixture.std, rtol=0.03)
    np.testing.assert_allclose(offsets.mean(0), 0.0, atol=3 * mixture.std / np.sqrt(1000))


def test_sampling_is_a_pure_function_of_the_key():
    ring = mixtures.ring()
    a = ring.draw(jax.random.PRNGKey(3), 100)
    b = ring.draw(jax.random.PRNGKey(3), 100)
    c = ring.draw(jax.random.PRNGKey(4), 100)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_build_dataset_checks_names_keys_and_values():
    ring = build_dataset(ConfigDict(dict(name="ring", std=0.02, num_modes=6)))
    assert ring.num_modes == 6 and ring.std == 0.02
    with pytest.raises(ConfigError, match=r"data.name: unknown dataset 'rign'; did you mean"):
        build_dataset(ConfigDict(dict(name="rign")))
    with pytest.raises(ConfigError, match=r"unknown config key data.sigma for dataset 'ring'; "
                                          r"did you mean 'data.std'"):
        build_dataset(ConfigDict(dict(name="ring", sigma=0.1)))
    with pytest.raises(ConfigError, match=r"data.num_modes: must be positive, got 0"):
        build_dataset(ConfigDict(dict(name="ring", num_modes=0)))
    with pytest.raises(ConfigError, match=r"data.std: must be positive"):
        build_dataset(ConfigDict(dict(name="grid", std=-1.0)))
    with pytest.raises(ConfigError, match=r"data.num_modes: expected int, got str"):
        build_dataset(ConfigDict(dict(name="ring", num_modes="8")))


def test_points_come_labelled_with_their_mode():
    ring = mixtures.ring()
    batch = ring.sample({}, jax.random.PRNGKey(3), 0, 500)
    nearest = np.argmin(np.linalg.norm(np.asarray(batch["x"])[:, None] - ring.centres, axis=-1),
                        axis=-1)
    np.testing.assert_array_equal(nearest, np.asarray(batch["label"]))
    np.testing.assert_array_equal(batch["x"], ring.draw(jax.random.PRNGKey(3), 500))
    assert ring.num_classes == 8
