"""How an extractor resizes images to its input size: clean-fid's three modes (`eval.resize`).

- `legacy_pytorch`: bilinear with half-pixel centres and no antialiasing, on the float image
  (PyTorch's `interpolate(align_corners=False)`, what pytorch-fid does); computed on device.
- `clean`: PIL's bicubic with antialiasing, channel by channel in float32 ('F' images), on the
  uint8 image, clipped to [0, 255] (clean-fid's `clean`); computed on the host.
- `legacy_tensorflow`: TensorFlow 1's `resize_bilinear(align_corners=False)`, which samples
  output pixel i at input coordinate i * in / out (no half-pixel centres, no antialiasing),
  as the original TensorFlow FID code did; computed on device.

clean-fid feeds the `clean` and `legacy_tensorflow` images to InceptionV3 scaled by
(x - 128) / 128, and `legacy_pytorch` ones by x / 127.5 - 1 (`input_scale`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.config.registry import ConfigError

RESIZE_MODES = ("legacy_pytorch", "clean", "legacy_tensorflow")


def check_mode(mode: str, key: str = "eval.resize") -> None:
    if mode not in RESIZE_MODES:
        from gan_jax.config import did_you_mean

        raise ConfigError(f"{key}: unknown resize mode {mode!r}"
                          f"{did_you_mean(mode, list(RESIZE_MODES))} (known: "
                          f"{', '.join(RESIZE_MODES)})")


def on_host(mode: str) -> bool:
    """Whether the mode resizes on the host (PIL) rather than inside the compiled network."""
    return mode == "clean"


def input_scale(images: jax.Array, mode: str) -> jax.Array:
    """[0, 255] images -> the network's [-1, 1] input, scaled as clean-fid does per mode."""
    if mode == "legacy_pytorch":
        return images / 255.0 * 2.0 - 1.0
    return (images - 128.0) / 128.0


def legacy_pytorch(images: jax.Array, size: tuple[int, int]) -> jax.Array:
    """float [n, H, W, C] -> [n, *size, C]: bilinear, half-pixel centres, no antialiasing."""
    return jax.image.resize(images, (images.shape[0], *size, images.shape[-1]), "bilinear",
                            antialias=False)


def _tf1_weights(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """TensorFlow 1's (lower index, upper index, fraction) per output pixel, in float32 as it
    computes them: x = i * (in / out), lower = floor(x), upper = min(lower + 1, in - 1)."""
    scale = np.float32(in_size) / np.float32(out_size)
    x = np.arange(out_size, dtype=np.float32) * scale
    lower = np.floor(x).astype(np.int32)
    upper = np.minimum(lower + 1, in_size - 1)
    return lower, upper, (x - lower).astype(np.float32)


def legacy_tensorflow(images: jax.Array, size: tuple[int, int]) -> jax.Array:
    """float [n, H, W, C] -> [n, *size, C] as TensorFlow 1's bilinear resize."""
    for axis, out in ((1, size[0]), (2, size[1])):
        lower, upper, fraction = _tf1_weights(images.shape[axis], out)
        shape = [1] * images.ndim
        shape[axis] = out
        a, b = jnp.take(images, lower, axis), jnp.take(images, upper, axis)
        images = a + (b - a) * jnp.asarray(fraction).reshape(shape)
    return images


def clean(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 (or float) [n, H, W, C] -> float32 [n, *size, C]: PIL bicubic per channel in
    float32, clipped to [0, 255]."""
    from PIL import Image

    height, width = size
    out = np.empty((images.shape[0], height, width, images.shape[-1]), np.float32)
    for i, image in enumerate(np.asarray(images)):
        for c in range(image.shape[-1]):
            picture = Image.fromarray(image[..., c].astype(np.float32), mode="F")
            out[i, ..., c] = np.asarray(picture.resize((width, height),
                                                       Image.Resampling.BICUBIC))
    return np.clip(out, 0.0, 255.0)


def on_device(images: jax.Array, size: tuple[int, int], mode: str) -> jax.Array:
    """The device modes' resize (images already at `size` pass through)."""
    if images.shape[1:3] == tuple(size):
        return images
    if mode == "legacy_tensorflow":
        return legacy_tensorflow(images, size)
    if mode == "clean":  # Differentiable callers (the projector) on unresized images.
        return jax.image.resize(images, (images.shape[0], *size, images.shape[-1]),
                                "bicubic", antialias=True)
    return legacy_pytorch(images, size)
