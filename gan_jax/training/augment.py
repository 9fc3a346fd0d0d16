"""Differentiable augmentation of everything the discriminator sees (DiffAugment, Zhao et al.
2020), for training with little data.

A policy is a comma-separated list of operations, applied in this order:

    color        per example: brightness + U(-0.5, 0.5), saturation x U(0, 2) and contrast
                 x U(0.5, 1.5), each about the image's own mean (images are in [-1, 1])
    translation  per example: a shift of up to 1/8 of the size along each axis, zero-filled
    cutout       per example: a zeroed square of half the size, centred anywhere

Random parameters are drawn for a whole batch from one key (`draw`), and applied by a function
that is differentiable in the images (`apply`). Drawing and applying are separate so that a
data-parallel step can draw for the global batch and keep its device's rows: every example is
augmented the same whatever the device count.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from gan_jax.config.registry import ConfigError

OPERATIONS = ("color", "translation", "cutout")
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5

Params = dict[str, jax.Array]


def parse_policy(policy: str, key: str = "train.diff_augment") -> tuple[str, ...]:
    """"color,translation" -> ("color", "translation"); "" -> () (no augmentation)."""
    names = tuple(n.strip() for n in policy.split(",") if n.strip())
    for name in names:
        if name not in OPERATIONS:
            raise ConfigError(f"{key}: unknown augmentation {name!r}; known: "
                              f"{', '.join(OPERATIONS)} (comma-separated, '' for none)")
    if len(set(names)) != len(names):
        raise ConfigError(f"{key}: {policy!r} names an augmentation twice")
    return names


def _shift(size: int) -> int:
    return int(size * TRANSLATION_RATIO + 0.5)


def _cutout_size(size: int) -> int:
    return int(size * CUTOUT_RATIO + 0.5)


def draw(policy: tuple[str, ...], key: jax.Array, batch: int,
         image_shape: tuple[int, ...]) -> Params:
    """The random parameters of `policy` for `batch` images of `image_shape` (H, W, C)."""
    height, width = image_shape[:2]
    params: Params = {}
    keys = dict(zip(OPERATIONS, jax.random.split(key, len(OPERATIONS)), strict=True))
    if "color" in policy:
        params["color"] = jax.random.uniform(keys["color"], (batch, 3))
    if "translation" in policy:
        k = keys["translation"]
        params["translation"] = jnp.stack([
            jax.random.randint(jax.random.fold_in(k, 0), (batch,), -_shift(height),
                               _shift(height) + 1),
            jax.random.randint(jax.random.fold_in(k, 1), (batch,), -_shift(width),
                               _shift(width) + 1)], axis=-1)
    if "cutout" in policy:
        k = keys["cutout"]
        params["cutout"] = jnp.stack([
            jax.random.randint(jax.random.fold_in(k, 0), (batch,), 0, height),
            jax.random.randint(jax.random.fold_in(k, 1), (batch,), 0, width)], axis=-1)
    return params


def _color(x: jax.Array, u: jax.Array) -> jax.Array:
    u = u[:, None, None, :].astype(x.dtype)
    x = x + (u[..., 0:1] - 0.5)
    mean = jnp.mean(x, axis=-1, keepdims=True)
    x = (x - mean) * (2.0 * u[..., 1:2]) + mean
    mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
    return (x - mean) * (u[..., 2:3] + 0.5) + mean


def _translate(x: jax.Array, shifts: jax.Array) -> jax.Array:
    _, height, width, _ = x.shape
    sh, sw = _shift(height), _shift(width)
    padded = jnp.pad(x, ((0, 0), (sh, sh), (sw, sw), (0, 0)))

    def one(image, shift):
        # Output pixel (i, j) reads input (i - dy, j - dx): the content moves by (dy, dx).
        return jax.lax.dynamic_slice(image, (sh - shift[0], sw - shift[1], 0),
                                     (height, width, image.shape[-1]))

    return jax.vmap(one)(padded, shifts)


def _cutout(x: jax.Array, centres: jax.Array) -> jax.Array:
    _, height, width, _ = x.shape
    size_h, size_w = _cutout_size(height), _cutout_size(width)
    rows = jnp.arange(height)[None, :] - (centres[:, 0:1] - size_h // 2)
    cols = jnp.arange(width)[None, :] - (centres[:, 1:2] - size_w // 2)
    inside = (((rows >= 0) & (rows < size_h))[:, :, None]
              & ((cols >= 0) & (cols < size_w))[:, None, :])
    return jnp.where(inside[..., None], jnp.zeros((), x.dtype), x)


def apply(x: jax.Array, params: Params) -> jax.Array:
    """`x` [batch, H, W, C] augmented with `params` from `draw` (the identity for {})."""
    if "color" in params:
        x = _color(x, params["color"])
    if "translation" in params:
        x = _translate(x, params["translation"])
    if "cutout" in params:
        x = _cutout(x, params["cutout"])
    return x
