"""R3GAN's generator and discriminator (Huang et al., NeurIPS 2024; reference: brownvc/R3GAN).

A modernised residual GAN with no mapping network, styles, noise or normalisation layers.

Generator: z (with a class embedding concatenated, when conditional) -> a learned
b_h x b_w x widths[0] basis, multiplied channel-wise by a linear map of z -> `blocks` residual
blocks -> per later stage a 1x1 convolution where the width changes, 2x interpolative
upsampling, and `blocks` residual blocks -> a 1x1 convolution to the image channels (linear
output, no tanh, as in the reference).

Discriminator, the mirror image: a 1x1 convolution from the image -> per stage `blocks`
residual blocks, then 2x interpolative downsampling and a 1x1 convolution where the width
changes -> at the base resolution a depthwise b_h x b_w "basis" convolution and a linear map
to one logit (conditional: to an embedding, whose inner product with a class embedding is the
logit, i.e. a projection discriminator).

Residual block: x + conv1x1(act(grouped conv(act(conv1x1(x))))), the middle convolution
`expansion` times wider and split into `cardinality` groups (0: groups of 16 channels, the
reference's choice at every preset); act is LeakyReLU(0.2) after a learned bias.

Initialisation (the point of the design: no normalisation is needed): every weight is drawn
from N(0, gain^2 / fan_in); in a block the first two layers take gain sqrt(2 / (1 + 0.2^2))
* L^(-1/4), with L the player's number of blocks, and the last layer is zero, so every block
starts as the identity and the variance a block adds once trained stays bounded in depth.

Resampling: the filter `resample_filter` (default [1, 2, 1]) convolved with [1, 1] gives the
separable low-pass kernel ([1, 3, 3, 1] / 8 per axis), applied as a stride-2 transposed
convolution (gain 4) to upsample and a stride-2 convolution to downsample, with padding
len(filter) // 2: the reference's `InterpolativeUpsampler` and `InterpolativeDownsampler`.

Images of H x W with H = b_h * 2**k and W = b_w * 2**k for one k >= 1 (bases in [3, 16]): the
players have k + 1 stages, so 32 x 32 is four stages from 4 x 4, 28 x 28 three from 7 x 7 and
32 x 64 four from 4 x 8. Every size field is in stages from the base: G's from the base up, D's
from the image down (the reference's order).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from gan_jax.config.registry import ConfigError
from gan_jax.models.blocks import halvings_plan
from gan_jax.models.conditioning import labels_for
from gan_jax.models.conv import grouped_conv2d

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0 / (1.0 + LRELU_SLOPE**2))
GROUP_CHANNELS = 16  # Channels per group of the grouped convolution when cardinality is 0.
LAYERS_PER_BLOCK = 3


def stage_plan(height: int, width: int, section: str) -> tuple[tuple[int, int], int]:
    """(H, W) -> ((b_h, b_w), k): H = b_h * 2**k, W = b_w * 2**k, k >= 1 as large as both
    allow with bases of at least 3, each base in [3, 16]."""
    plan = halvings_plan(height, width, 3, 3, 16)
    if plan is None:
        raise ConfigError(
            f"{section}: a {height}x{width} image cannot be built by R3GAN, which needs H = b_h "
            "* 2**k and W = b_w * 2**k for one k >= 1 with bases in [3, 16] (e.g. 28x28, 32x32, "
            "32x64, 256x256)")
    bases, k = plan
    return bases, k


def lowpass(taps: tuple[int, ...]) -> np.ndarray:
    """The reference's 1D interpolation kernel: `taps` convolved with [1, 1], summing to 1."""
    kernel = np.convolve(np.asarray(taps, np.float64), [1.0, 1.0])
    return kernel / kernel.sum()


def _upsample_axis(x: jax.Array, axis: int, kernel: np.ndarray) -> jax.Array:
    # A stride-2 transposed convolution of the K-tap kernel with padding p = (K - 1) // 2 (the
    # filter's length // 2): zeros between the inputs, K - 1 - p zeros each side, then a
    # correlation with the flipped kernel, giving twice the input's length.
    n, taps = x.shape[axis], len(kernel)
    pad = taps - 1 - (taps - 1) // 2
    spread = jnp.stack([x, jnp.zeros_like(x)], axis=axis + 1)
    spread = jnp.reshape(spread, (*x.shape[:axis], 2 * n, *x.shape[axis + 1:]))
    spread = jax.lax.slice_in_dim(spread, 0, 2 * n - 1, axis=axis)
    widths = [(0, 0)] * x.ndim
    widths[axis] = (pad, pad)
    spread = jnp.pad(spread, widths)
    out = sum(float(2.0 * w) * jax.lax.slice_in_dim(spread, t, t + 2 * n, axis=axis)
              for t, w in enumerate(kernel[::-1]))
    return out


def _downsample_axis(x: jax.Array, axis: int, kernel: np.ndarray) -> jax.Array:
    # A stride-2 correlation with padding (K - 1) // 2 each side.
    n, taps = x.shape[axis], len(kernel)
    pad = (taps - 1) // 2
    widths = [(0, 0)] * x.ndim
    widths[axis] = (pad, pad)
    padded = jnp.pad(x, widths)
    m = (n + 2 * pad - taps) // 2 + 1
    return sum(float(w) * jax.lax.slice_in_dim(padded, t, t + 2 * (m - 1) + 1, 2, axis=axis)
               for t, w in enumerate(kernel))


def upsample(x: jax.Array, taps: tuple[int, ...] = (1, 2, 1)) -> jax.Array:
    """NHWC `x` at twice the resolution by the reference's interpolative upsampler."""
    kernel = lowpass(taps)
    return _upsample_axis(_upsample_axis(x, 1, kernel), 2, kernel)


def downsample(x: jax.Array, taps: tuple[int, ...] = (1, 2, 1)) -> jax.Array:
    """NHWC `x` at half the resolution by the reference's interpolative downsampler."""
    kernel = lowpass(taps)
    return _downsample_axis(_downsample_axis(x, 1, kernel), 2, kernel)


def msr_init(gain: float) -> nn.initializers.Initializer:
    """N(0, gain^2 / fan_in), fan_in the product of all but the last axis; zeros at gain 0."""
    if gain == 0:
        return nn.initializers.zeros_init()
    return nn.initializers.variance_scaling(gain**2, "fan_in", "normal")


class Convolution(nn.Module):
    """A bias-free stride-1 convolution with "same" padding, `groups` channel groups and
    `msr_init(gain)` weights."""

    features: int
    kernel_size: int = 1
    groups: int = 1
    gain: float = 1.0

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        k = self.kernel_size
        shape = (k, k, x.shape[-1] // self.groups, self.features)
        kernel = self.param("kernel", msr_init(self.gain), shape, jnp.float32)
        pad = ((k - 1) // 2, k // 2)
        return grouped_conv2d(x, kernel.astype(x.dtype), self.groups, (pad, pad))


class BiasedActivation(nn.Module):
    """LeakyReLU(0.2) of `x` plus a learned per-channel bias (initially 0)."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        bias = self.param("bias", nn.initializers.zeros_init(), (x.shape[-1],), jnp.float32)
        return nn.leaky_relu(x + bias.astype(x.dtype), LRELU_SLOPE)


class ResidualBlock(nn.Module):
    """x + conv1x1(act(grouped conv(act(conv1x1(x))))); see the module docstring."""

    cardinality: int
    expansion: int = 2
    kernel_size: int = 3
    total_blocks: int = 1  # L of the variance scaling.

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        channels = x.shape[-1]
        expanded = channels * self.expansion
        gain = LRELU_GAIN * self.total_blocks ** (-1.0 / (2 * LAYERS_PER_BLOCK - 2))
        y = Convolution(expanded, 1, gain=gain, name="expand")(x)
        y = Convolution(expanded, self.kernel_size, self.cardinality, gain=gain,
                        name="grouped")(BiasedActivation(name="act1")(y))
        y = Convolution(channels, 1, gain=0.0, name="project")(BiasedActivation(name="act2")(y))
        return x + y


class _R3GANPlayer(nn.Module):
    """The size fields both players share, and their checks."""

    zero_allowed: ClassVar[tuple[str, ...]] = ("cardinality", "class_embed_dim")

    width: int = 256
    widths: tuple[int, ...] = ()  # One per stage, in the player's order; (): `width` each.
    blocks: int = 2  # Residual blocks per stage.
    cardinality: int = 0  # Groups of the grouped convolution; 0: 16 channels per group.
    expansion: int = 2
    kernel_size: int = 3
    resample_filter: tuple[int, ...] = (1, 2, 1)
    class_embed_dim: int = 0

    def stage_widths(self, stages: int, section: str, size: str) -> tuple[int, ...]:
        widths = tuple(self.widths) or (self.width,) * stages
        if len(widths) != stages:
            raise ConfigError(f"{section}.widths: {size} images take {stages} stages, so "
                              f"{stages} widths, got {len(widths)}")
        if any(w < 1 for w in widths):
            raise ConfigError(f"{section}.widths: must be positive, got {widths}")
        return widths

    def groups(self, width: int, section: str) -> int:
        expanded = width * self.expansion
        groups = self.cardinality or max(1, expanded // GROUP_CHANNELS)
        if expanded % groups:
            raise ConfigError(
                f"{section}.cardinality: the grouped convolution's {expanded} channels (width "
                f"{width} x expansion {self.expansion}) do not split into {groups} groups")
        return groups

    def check_fields(self, section: str) -> None:
        if not self.resample_filter or len(self.resample_filter) % 2 == 0:
            raise ConfigError(f"{section}.resample_filter: an odd number of taps, as [1, 2, 1], "
                              f"got {tuple(self.resample_filter)}")
        if self.kernel_size % 2 == 0:
            raise ConfigError(f"{section}.kernel_size: must be odd, got {self.kernel_size}")
        for w in tuple(self.widths) or (self.width,):
            self.groups(w, section)

    def stage(self, x: jax.Array, width: int, total: int, section: str, name: str) -> jax.Array:
        for j in range(self.blocks):
            x = ResidualBlock(self.groups(width, section), self.expansion, self.kernel_size,
                              total, name=f"{name}_block{j + 1}")(x)
        return x


class R3GANGenerator(_R3GANPlayer):
    """z -> image of `output_shape` (H, W, C); see the module docstring."""

    output_shape: tuple[int, ...] = (32, 32, 3)
    num_classes: int = 0  # Derived from model.condition and the dataset.
    dtype: Any = jnp.float32  # Derived from train.precision.

    def plan(self) -> tuple[tuple[int, int], tuple[int, ...]]:
        h, w, _ = self.output_shape
        bases, k = stage_plan(h, w, "model.generator")
        return bases, self.stage_widths(k + 1, "model.generator", f"{h}x{w}")

    def check_config(self) -> None:
        if len(self.output_shape) != 3:
            raise ConfigError(f"model.generator: R3GAN builds H x W x C images, got shape "
                              f"{self.output_shape}")
        self.check_fields("model.generator")
        self.plan()  # The image size and the number of widths.

    @nn.compact
    def __call__(self, z: jax.Array, labels: jax.Array | None = None,
                 train: bool = True) -> jax.Array:
        del train  # No normalisation, dropout or noise.
        (bh, bw), widths = self.plan()
        inputs = z.astype(jnp.float32)
        if self.num_classes:
            labels = labels_for(labels, z.shape[0])
            dim = self.class_embed_dim or z.shape[-1]
            embed = nn.Embed(self.num_classes, dim, embedding_init=nn.initializers.normal(
                1.0 / math.sqrt(self.num_classes)), name="class_embed")
            inputs = jnp.concatenate([inputs, embed(labels)], axis=-1)
        inputs = inputs.astype(self.dtype)
        total = self.blocks * len(widths)
        kernel = self.param("project", msr_init(1.0), (inputs.shape[-1], widths[0]), jnp.float32)
        basis = self.param("basis", nn.initializers.normal(1.0), (bh, bw, widths[0]),
                           jnp.float32)
        x = basis.astype(self.dtype)[None] * (inputs @ kernel.astype(self.dtype))[:, None, None]
        x = self.stage(x, widths[0], total, "model.generator", "stage1")
        for i, width in enumerate(widths[1:], start=2):
            if x.shape[-1] != width:
                x = Convolution(width, 1, name=f"stage{i}_widen")(x)
            x = upsample(x, tuple(self.resample_filter))
            x = self.stage(x, width, total, "model.generator", f"stage{i}")
        x = Convolution(self.output_shape[-1], 1, name="to_image")(x)
        return x.astype(jnp.float32)


class R3GANDiscriminator(_R3GANPlayer):
    """Image -> one logit; see the module docstring."""

    num_classes: int = 0  # Derived from model.condition and the dataset.
    dtype: Any = jnp.float32  # Derived from train.precision.

    def check_config(self) -> None:
        self.check_fields("model.discriminator")

    @nn.compact
    def __call__(self, x: jax.Array, labels: jax.Array | None = None,
                 train: bool = True) -> jax.Array:
        del train
        _, h, w, _ = x.shape
        (bh, bw), k = stage_plan(h, w, "model.discriminator")
        widths = self.stage_widths(k + 1, "model.discriminator", f"{h}x{w}")
        total = self.blocks * len(widths)
        x = Convolution(widths[0], 1, name="from_image")(x.astype(self.dtype))
        for i, width in enumerate(widths[:-1], start=1):
            x = self.stage(x, width, total, "model.discriminator", f"stage{i}")
            x = downsample(x, tuple(self.resample_filter))
            if widths[i] != width:
                x = Convolution(widths[i], 1, name=f"stage{i}_narrow")(x)
        last = len(widths)
        x = self.stage(x, widths[-1], total, "model.discriminator", f"stage{last}")
        # The basis: a depthwise b_h x b_w valid convolution, i.e. a learned weighting of the
        # positions per channel (fan-in b_h * b_w).
        basis = self.param("basis", nn.initializers.normal(1.0 / math.sqrt(bh * bw)),
                           (bh, bw, widths[-1]), jnp.float32)
        features = jnp.einsum("bhwc,hwc->bc", x, basis.astype(x.dtype))
        outputs = (self.class_embed_dim or widths[-1]) if self.num_classes else 1
        kernel = self.param("logit", msr_init(1.0), (widths[-1], outputs), jnp.float32)
        out = (features @ kernel.astype(features.dtype)).astype(jnp.float32)
        if not self.num_classes:
            return out[:, 0]
        labels = labels_for(labels, x.shape[0])
        embed = nn.Embed(self.num_classes, outputs, embedding_init=nn.initializers.normal(
            1.0 / math.sqrt(outputs * self.num_classes)), name="class_embed")
        return jnp.sum(out * embed(labels), axis=-1)
