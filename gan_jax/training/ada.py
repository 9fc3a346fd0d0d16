"""Adaptive discriminator augmentation's pipeline (ADA, Karras et al. 2020): the `bgc`
transforms of the reference code, each applied to every image D sees with probability p,
differentiably in the image.

    blit   xflip (mirror x), rotate90 (k quarter turns), xint (integer translation, up to 1/8
           of the size)
    geom   scale (isotropic, lognormal std 0.2 in log2), rotate (uniform angle, as two
           rotations of probability 1 - sqrt(1 - p) around the anisotropic scaling), aniso
           (anisotropic, std 0.2 in log2), xfrac (fractional translation, std 1/8 of the size)
    color  brightness (+N(0, 0.2)), contrast (x 2^N(0, 0.5)), lumaflip (mirror along the luma
           axis), hue (rotation about the luma axis, uniform angle), saturation (x 2^N(0, 1)
           off the luma axis); hue and saturation act on colour images only

A pipeline is a comma-separated list of transform and group names (`bgc` is all three groups).
The geometric transforms compose into one 3x3 inverse transform per image, in pixel units about
the image's centre, executed by bilinear sampling with mirror-reflection at the borders (the
reference pads by reflection, upsamples 2x with a wavelet filter and downsamples again to limit
aliasing; this pipeline samples at the output resolution directly). The colour transforms
compose into one 4x4 affine colour matrix per image. Images are in [-1, 1], channels last.

Parameters are drawn for the global batch from one key (`draw`) and applied to any rows of it
(`apply`), so a data-parallel step augments every example as one device would.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from gan_jax.config import ConfigError

Array = jax.Array

GROUPS = {
    "blit": ("xflip", "rotate90", "xint"),
    "geom": ("scale", "rotate", "aniso", "xfrac"),
    "color": ("brightness", "contrast", "lumaflip", "hue", "saturation"),
}
GROUPS["bgc"] = GROUPS["blit"] + GROUPS["geom"] + GROUPS["color"]
TRANSFORMS = GROUPS["bgc"]  # In the order they compose.
GEOMETRIC = GROUPS["blit"] + GROUPS["geom"]

# The reference code's strengths for `bgc`.
XINT_MAX = 0.125
SCALE_STD = 0.2
ROTATE_MAX = 1.0  # x pi
ANISO_STD = 0.2
XFRAC_STD = 0.125
BRIGHTNESS_STD = 0.2
CONTRAST_STD = 0.5
HUE_MAX = 1.0  # x pi
SATURATION_STD = 1.0
LUMA_AXIS = (1.0 / math.sqrt(3.0),) * 3


def parse_pipeline(spec: str, key: str = "ada.pipeline") -> tuple[str, ...]:
    """"bgc" -> every transform; "blit,hue" -> ("xflip", "rotate90", "xint", "hue"); "" -> ()."""
    names: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        if part not in GROUPS and part not in TRANSFORMS:
            raise ConfigError(f"{key}: unknown transform {part!r}; known: groups "
                              f"{', '.join(GROUPS)} and transforms {', '.join(TRANSFORMS)}")
        names += GROUPS.get(part, (part,))
    if len(set(names)) != len(names):
        raise ConfigError(f"{key}: {spec!r} names a transform twice")
    return tuple(t for t in TRANSFORMS if t in names)


def _matrix(rows: list[list[Array]]) -> Array:
    """[batch, n, n] from n x n rows of [batch] (or scalar) entries."""
    batch = max((jnp.shape(v)[0] for row in rows for v in row if jnp.ndim(v)), default=1)
    return jnp.stack([jnp.stack([jnp.broadcast_to(jnp.asarray(v, jnp.float32), (batch,))
                                 for v in row], -1) for row in rows], -2)


def _translate2d(tx: Array, ty: Array) -> Array:
    return _matrix([[1, 0, tx], [0, 1, ty], [0, 0, 1]])


def _scale2d(sx: Array, sy: Array) -> Array:
    return _matrix([[sx, 0, 0], [0, sy, 0], [0, 0, 1]])


def _rotate2d(theta: Array) -> Array:
    c, s = jnp.cos(theta), jnp.sin(theta)
    return _matrix([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def _translate3d(t: Array) -> Array:
    return _matrix([[1, 0, 0, t], [0, 1, 0, t], [0, 0, 1, t], [0, 0, 0, 1]])


def _scale3d(s: Array) -> Array:
    return _matrix([[s, 0, 0, 0], [0, s, 0, 0], [0, 0, s, 0], [0, 0, 0, 1]])


def _rotate3d(axis: tuple[float, float, float], theta: Array) -> Array:
    """Rotation by `theta` about the unit `axis` (Rodrigues), as a 4x4 affine matrix."""
    x, y, z = axis
    c, s = jnp.cos(theta), jnp.sin(theta)
    d = 1 - c
    return _matrix([[x * x * d + c, x * y * d - z * s, x * z * d + y * s, 0],
                    [y * x * d + z * s, y * y * d + c, y * z * d - x * s, 0],
                    [z * x * d - y * s, z * y * d + x * s, z * z * d + c, 0],
                    [0, 0, 0, 1]])


def draw(pipeline: tuple[str, ...], key: Array, p: Array, batch: int,
         image_shape: tuple[int, ...]) -> dict[str, Array]:
    """Per-image parameters of `pipeline` at probability `p` for `batch` images of
    `image_shape` (H, W, C): {"geometry": [batch, 3, 3] inverse transforms, "color":
    [batch, 4, 4] colour matrices}, each present only if the pipeline has such transforms."""
    height, width, channels = image_shape
    keys = {name: jax.random.split(jax.random.fold_in(key, i), 2)
            for i, name in enumerate(TRANSFORMS)}

    def gate(name: str, value: Array, identity: float, prob: Array = p) -> Array:
        """`value` where this transform applies to the image (probability `prob`), else the
        value that leaves it unchanged."""
        applies = jax.random.uniform(keys[name][1], (batch,)) < prob
        return jnp.where(applies.reshape((batch,) + (1,) * (value.ndim - 1)), value, identity)

    def uniform(name: str, shape: tuple[int, ...] = ()) -> Array:
        return jax.random.uniform(keys[name][0], (batch, *shape))

    def normal(name: str, shape: tuple[int, ...] = ()) -> Array:
        return jax.random.normal(keys[name][0], (batch, *shape))

    params: dict[str, Array] = {}
    if any(t in pipeline for t in GEOMETRIC):
        g = jnp.broadcast_to(jnp.eye(3), (batch, 3, 3))
        if "xflip" in pipeline:
            flip = gate("xflip", jnp.floor(uniform("xflip") * 2), 0.0)
            g = g @ _scale2d(1 - 2 * flip, 1)  # Its own inverse.
        if "rotate90" in pipeline:
            turns = gate("rotate90", jnp.floor(uniform("rotate90") * 4), 0.0)
            g = g @ _rotate2d(-0.5 * math.pi * turns)
        if "xint" in pipeline:
            t = gate("xint", (uniform("xint", (2,)) * 2 - 1) * XINT_MAX, 0.0)
            g = g @ _translate2d(-jnp.round(t[:, 0] * width), -jnp.round(t[:, 1] * height))
        if "scale" in pipeline:
            s = gate("scale", jnp.exp2(normal("scale") * SCALE_STD), 1.0)
            g = g @ _scale2d(1 / s, 1 / s)
        # Rotation before and after the anisotropic scaling, each with probability
        # 1 - sqrt(1 - p), so that at least one applies with probability p.
        p_rotate = 1 - jnp.sqrt(jnp.clip(1 - p, 0.0, 1.0))
        if "rotate" in pipeline:
            theta = gate("rotate", (uniform("rotate") * 2 - 1) * math.pi * ROTATE_MAX, 0.0,
                         p_rotate)
            g = g @ _rotate2d(theta)
        if "aniso" in pipeline:
            s = gate("aniso", jnp.exp2(normal("aniso") * ANISO_STD), 1.0)
            g = g @ _scale2d(1 / s, s)
        if "rotate" in pipeline:
            k = jax.random.split(jax.random.fold_in(key, len(TRANSFORMS)), 2)
            theta = (jax.random.uniform(k[0], (batch,)) * 2 - 1) * math.pi * ROTATE_MAX
            applies = jax.random.uniform(k[1], (batch,)) < p_rotate
            g = g @ _rotate2d(jnp.where(applies, theta, 0.0))
        if "xfrac" in pipeline:
            t = gate("xfrac", normal("xfrac", (2,)) * XFRAC_STD, 0.0)
            g = g @ _translate2d(-t[:, 0] * width, -t[:, 1] * height)
        params["geometry"] = g
    if any(t in GROUPS["color"] for t in pipeline):
        c = jnp.broadcast_to(jnp.eye(4), (batch, 4, 4))
        v = jnp.array([*LUMA_AXIS, 0.0])
        luma = jnp.outer(v, v)
        if "brightness" in pipeline:
            c = _translate3d(gate("brightness", normal("brightness") * BRIGHTNESS_STD, 0.0)) @ c
        if "contrast" in pipeline:
            c = _scale3d(gate("contrast", jnp.exp2(normal("contrast") * CONTRAST_STD), 1.0)) @ c
        if "lumaflip" in pipeline:
            flip = gate("lumaflip", jnp.floor(uniform("lumaflip") * 2), 0.0)
            c = (jnp.eye(4) - 2 * luma * flip[:, None, None]) @ c
        if "hue" in pipeline and channels > 1:
            theta = gate("hue", (uniform("hue") * 2 - 1) * math.pi * HUE_MAX, 0.0)
            c = _rotate3d(LUMA_AXIS, theta) @ c
        if "saturation" in pipeline and channels > 1:
            s = gate("saturation", jnp.exp2(normal("saturation") * SATURATION_STD), 1.0)
            c = (luma + (jnp.eye(4) - luma) * s[:, None, None]) @ c
        params["color"] = c
    return params


def _transform(image: Array, inverse: Array) -> Array:
    """One [H, W, C] image resampled: output pixel (i, j) reads the input at the inverse
    transform of its centred coordinates, bilinearly, mirrored at the borders."""
    height, width, _ = image.shape
    cy, cx = (height - 1) / 2, (width - 1) / 2
    rows, cols = jnp.meshgrid(jnp.arange(height, dtype=jnp.float32),
                              jnp.arange(width, dtype=jnp.float32), indexing="ij")
    points = jnp.stack([cols - cx, rows - cy, jnp.ones_like(rows)])  # [3, H, W]
    source = jnp.einsum("ij,jhw->ihw", inverse, points)
    coordinates = [source[1] + cy, source[0] + cx]
    sample = lambda channel: jax.scipy.ndimage.map_coordinates(  # noqa: E731
        channel, coordinates, order=1, mode="mirror")
    return jax.vmap(sample, in_axes=-1, out_axes=-1)(image)


def apply(x: Array, params: dict[str, Array]) -> Array:
    """`x` [batch, H, W, C] transformed by `params` from `draw` (the identity for {})."""
    if "geometry" in params:
        x = jax.vmap(_transform)(x, params["geometry"].astype(jnp.float32)).astype(x.dtype)
    if "color" in params:
        c = params["color"].astype(x.dtype)
        if x.shape[-1] == 3:
            x = jnp.einsum("bij,bhwj->bhwi", c[:, :3, :3], x) + c[:, None, None, :3, 3]
        elif x.shape[-1] == 1:  # The reference's grey form: the mean of the RGB rows.
            rows = jnp.mean(c[:, :3, :], axis=1)  # [batch, 4]
            x = x * jnp.sum(rows[:, :3], -1)[:, None, None, None] + rows[:, None, None, 3:]
        else:
            raise ValueError(f"colour transforms take 1 or 3 channels, got {x.shape[-1]}")
    return x
