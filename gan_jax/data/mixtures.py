"""2D Gaussian-mixture benchmarks for mode collapse (PacGAN's protocol).

`ring`: 8 Gaussians centred at (cos 2*pi*k/8, sin 2*pi*k/8), std 0.01.
`grid`: 25 Gaussians centred on {-4, -2, 0, 2, 4}^2, std 0.05.
Every component has equal weight, and each point is labelled with its component (its mode),
so a class-conditional GAN can be asked for a mode. Sampling is a pure function of a JAX key,
so it runs on device inside the compiled train step.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.config.registry import ConfigError


@dataclasses.dataclass(frozen=True, eq=False)
class GaussianMixture:
    """An equal-weight mixture of isotropic Gaussians with a shared standard deviation."""

    centres: np.ndarray  # [num_modes, dim], float64 on the host
    std: float

    kind = "points"

    @property
    def num_modes(self) -> int:
        return int(self.centres.shape[0])

    @property
    def num_classes(self) -> int:
        """Points are labelled with their mode."""
        return self.num_modes

    @property
    def example_shape(self) -> tuple[int, ...]:
        return (int(self.centres.shape[1]),)

    def device_data(self, shuffle_key: jax.Array, batch_size: int) -> dict[str, jax.Array]:
        """Nothing to hold on device: samples are drawn from the key."""
        del shuffle_key, batch_size
        return {}

    def sample(self, data: dict[str, jax.Array], key: jax.Array, batch_index: jax.Array,
               num: int) -> dict[str, jax.Array]:
        """A batch {"x": points, "label": their modes}; every batch is fresh, so the index
        is unused."""
        del data, batch_index
        points, modes = self.draw_labelled(key, num)
        return {"x": points, "label": modes}

    def draw(self, key: jax.Array, num: int) -> jax.Array:
        """Draws `num` float32 points; traceable, so it can run inside jit."""
        return self.draw_labelled(key, num)[0]

    def draw_labelled(self, key: jax.Array, num: int) -> tuple[jax.Array, jax.Array]:
        """`num` float32 points and the int32 mode each was drawn from."""
        mode_key, noise_key = jax.random.split(key)
        centres = jnp.asarray(self.centres, jnp.float32)
        modes = jax.random.randint(mode_key, (num,), 0, self.num_modes)
        noise = jax.random.normal(noise_key, (num, centres.shape[1]), jnp.float32)
        return centres[modes] + self.std * noise, modes

    def draw_modes(self, key: jax.Array, modes: jax.Array) -> jax.Array:
        """One float32 point from each of the given modes."""
        centres = jnp.asarray(self.centres, jnp.float32)
        noise = jax.random.normal(key, (modes.shape[0], centres.shape[1]), jnp.float32)
        return centres[modes] + self.std * noise


def ring_centres(num_modes: int, radius: float) -> np.ndarray:
    # endpoint=False: with the endpoint, 2*pi repeats 0 and the "8-mode" ring has 7 modes.
    angles = np.linspace(0.0, 2.0 * np.pi, num_modes, endpoint=False)
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)


def grid_centres(num_per_side: int, spacing: float) -> np.ndarray:
    axis = spacing * (np.arange(num_per_side) - (num_per_side - 1) / 2.0)
    xs, ys = np.meshgrid(axis, axis, indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=-1)


def _check_positive(**values: float) -> None:
    for key, value in values.items():
        if not value > 0:
            raise ConfigError(f"data.{key}: must be positive, got {value}")


def ring(num_modes: int = 8, radius: float = 1.0, std: float = 0.01) -> GaussianMixture:
    _check_positive(num_modes=num_modes, radius=radius, std=std)
    return GaussianMixture(ring_centres(num_modes, radius), std)


def grid(num_per_side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
    _check_positive(num_per_side=num_per_side, spacing=spacing, std=std)
    return GaussianMixture(grid_centres(num_per_side, spacing), std)
