"""Latent-space exploration: interpolation paths and one-dimension traversals."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.models.latent import interpolate, traverse


@pytest.mark.parametrize("method", ["linear", "slerp"])
def test_interpolation_starts_and_ends_at_its_endpoints(method):
    z0, z1 = jax.random.normal(jax.random.PRNGKey(0), (2, 16))
    path = interpolate(z0, z1, 7, method)
    assert path.shape == (7, 16)
    np.testing.assert_allclose(path[0], z0, atol=1e-5)
    np.testing.assert_allclose(path[-1], z1, atol=1e-5)


def test_slerp_keeps_typical_norms_where_the_chord_shrinks():
    z0, z1 = jax.random.normal(jax.random.PRNGKey(1), (2, 128))
    mid_linear = jnp.linalg.norm(interpolate(z0, z1, 3, "linear")[1])
    mid_slerp = jnp.linalg.norm(interpolate(z0, z1, 3, "slerp")[1])
    # Two near-orthogonal Gaussian vectors of norm ~sqrt(128): the chord's midpoint has norm
    # ~sqrt(64); the arc keeps the average of the end norms.
    expected = (jnp.linalg.norm(z0) + jnp.linalg.norm(z1)) / 2
    np.testing.assert_allclose(mid_slerp, expected, rtol=1e-5)
    assert mid_linear < 0.8 * mid_slerp
    # Equal angular steps along the arc.
    path = interpolate(z0, z1, 5, "slerp")
    unit = path / jnp.linalg.norm(path, axis=1, keepdims=True)
    angles = jnp.arccos(jnp.clip(jnp.sum(unit[1:] * unit[:-1], axis=1), -1, 1))
    np.testing.assert_allclose(angles, angles[0], rtol=1e-3)


def test_slerp_of_parallel_vectors_is_finite():
    z = jnp.ones(4)
    assert jnp.all(jnp.isfinite(interpolate(z, 2 * z, 4, "slerp")))


def test_traversal_changes_one_dimension_at_a_time():
    base = jax.random.normal(jax.random.PRNGKey(2), (3, 10))
    values = jnp.linspace(-2, 2, 5)
    grid = traverse(base, (1, 4), values)
    assert grid.shape == (3, 2, 5, 10)
    for row, dim in enumerate((1, 4)):
        np.testing.assert_allclose(grid[:, row, :, dim], np.broadcast_to(values, (3, 5)))
        others = [d for d in range(10) if d != dim]
        np.testing.assert_allclose(np.asarray(grid)[:, row][..., others],
                                   np.broadcast_to(base[:, None, others], (3, 5, 9)))
    with pytest.raises(ValueError, match="out of range"):
        traverse(base, (10,), values)
