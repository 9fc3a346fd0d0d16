"""Style-based generator (StyleGAN, Karras et al. 2019; StyleGAN2, Karras et al. 2020) and
StyleGAN2's residual discriminator, at H x W = b_h * 2**k x b_w * 2**k for k >= 1 and bases
in [4, 16] (`synthesis_plan`): every power-of-two square from 8 up starts at 4 x 4, as in
StyleGAN; 28 x 28 starts at 7 x 7, 64 x 32 at 8 x 4. Layers are named by their short side.

Generator: a mapping network turns z (normalised to unit mean square) into an intermediate
latent w through `mapping_depth` dense layers whose learning rate is scaled by `mapping_lr_mul`.
The synthesis network starts from a learned b_h x b_w constant; every resolution has two 3x3
style layers (one at the base), the first after a low-pass-filtered 2x upsampling, and a 1x1
toRGB output; the outputs of all resolutions are upsampled and summed ("skip" architecture).
Each layer reads its own w from `ws` [batch, num_ws, w_dim], so styles can be mixed per layer.
A style layer is controlled by w through one of two mechanisms (`style`):
- "adain": convolution, noise, bias, LeakyReLU, then adaptive instance normalisation: each
  channel is normalised over space and given the style's scale and bias (StyleGAN);
- "modulation": the kernel's input channels are scaled by the style and each output channel
  is divided by its resulting L2 norm (demodulation), then noise, bias and LeakyReLU
  (StyleGAN2). Computed, as StyleGAN2 does without fused modulation, by scaling the
  activations before a shared convolution and the outputs after it.
Per-pixel Gaussian noise enters every style layer through learned per-channel scales
(initialised at 0). Every weight uses the equalised learning rate: stored as N(0, 1) and scaled
by 1/sqrt(fan in) when used.

Randomness: style mixing and noise are drawn from per-example `keys` (one PRNG key per row), so
an image is a function of its (z, key) alone, whatever the batch or device split. Without keys
the noise is a fixed pattern per layer, the same for every example, and nothing is mixed.
Training-mode calls track the average w (`stats/w_avg`, spanning `bn_axis_name` under pmap);
truncation moves w towards it.

Discriminator: 1x1 fromRGB, then per resolution a residual block (3x3 conv, 3x3 conv with
low-pass-filtered 2x downsampling, plus a filtered-downsampling 1x1 shortcut, summed and
scaled by 1/sqrt(2); `architecture="orig"` drops the shortcut, as StyleGAN2-ADA's CIFAR-10
setting does) down to the base b_h x b_w, then the minibatch standard deviation, a 3x3 conv
and two dense layers to one logit.

Class conditioning (`num_classes` > 0), as StyleGAN2-ADA does it: G's mapping network reads z
and a learned embedding of the label, each normalised to unit mean square, concatenated; D
maps its label embedding through its own mapping network to a vector c (`cmap_dim`, default
the 4 x 4 width) and its logit is <features, c> / sqrt(cmap_dim), a projection.

Reduced precision (`dtype`, from train.precision): the `low_precision_res` highest
resolutions (not below 8 x 8) compute in `dtype`, the rest, the mapping networks, the styles,
demodulation and the image sum in float32, as StyleGAN2-ADA does with FP16. `conv_clamp`
(StyleGAN2-ADA: 256) clips every layer's output to [-conv_clamp, conv_clamp], which keeps
low-precision activations in range; 0 turns it off.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from gan_jax.config.registry import ConfigError
from gan_jax.models.blocks import check_choice, halvings_plan
from gan_jax.models.conditioning import labels_for
from gan_jax.models.conv import conv2d

STYLES = ("adain", "modulation")
ARCHITECTURES = ("resnet", "orig")
LRELU_GAIN = math.sqrt(2.0)
# The low-pass filter of up- and downsampling (StyleGAN2's [1, 3, 3, 1], per axis).
FILTER_TAPS = (1.0, 3.0, 3.0, 1.0)
# The fixed noise of key-less calls is drawn from this key, folded with the layer index.
FIXED_NOISE_SEED = 0


def lrelu(x: jax.Array) -> jax.Array:
    """LeakyReLU(0.2) with StyleGAN's gain, which keeps unit-variance activations."""
    return nn.leaky_relu(x, 0.2) * LRELU_GAIN


def clamp(x: jax.Array, limit: float) -> jax.Array:
    """x clipped to [-limit, limit] (unchanged for limit 0)."""
    return jnp.clip(x, -limit, limit) if limit else x


def low_precision_from(size: int, num: int) -> int:
    """The lowest resolution of the `num` highest of a `size` model, not below 8 (StyleGAN2-
    ADA's num_fp16_res); above `size` when num is 0."""
    return max(size // 2 ** (num - 1), 8) if num else 2 * size


def check_precision_fields(low_precision_res: int, conv_clamp: float, section: str) -> None:
    if low_precision_res < 0:
        raise ConfigError(f"{section}.low_precision_res: must be >= 0 (0: all float32), got "
                          f"{low_precision_res}")
    if conv_clamp < 0:
        raise ConfigError(f"{section}.conv_clamp: must be >= 0 (0: off), got {conv_clamp}")


def synthesis_plan(shape: tuple[int, ...], section: str = "model.generator"
                   ) -> tuple[tuple[int, int], int]:
    """H x W x C -> ((b_h, b_w), k): a b_h x b_w base doubled k >= 1 times, bases in
    [4, 16], k as large as both sides allow (4 x 4 for every power-of-two square)."""
    plan = halvings_plan(shape[0], shape[1], 4, 4, 16) if len(shape) == 3 else None
    if plan is None:
        raise ConfigError(
            f"{section}: a style-based model cannot make {tuple(shape)} images: it needs H x W "
            "x C with H = b_h * 2**k and W = b_w * 2**k for one k >= 1 and bases in [4, 16] "
            "(8x8, 28x28, 32x32, 64x32, 256x256, ...); pad or resize the data (data.image_size)")
    return plan


def levels(shape: tuple[int, ...], section: str = "model.generator") -> list[tuple[int, int]]:
    """The (height, width) of each resolution of a synthesis network, base first."""
    (base_h, base_w), k = synthesis_plan(shape, section)
    return [(base_h << i, base_w << i) for i in range(k + 1)]


def _filter_axis(x: jax.Array, axis: int, pad: tuple[int, int], stride: int,
                 gain: float) -> jax.Array:
    """The low-pass filter (FILTER_TAPS, times `gain`) along `axis` after padding, keeping
    every `stride`-th output."""
    taps = np.asarray(FILTER_TAPS) * gain / sum(FILTER_TAPS)
    widths = [(0, 0)] * x.ndim
    widths[axis] = pad
    x = jnp.pad(x, widths)
    length = (x.shape[axis] - len(taps)) // stride + 1
    out = 0
    for i, tap in enumerate(taps):
        out = out + float(tap) * jax.lax.slice_in_dim(x, i, i + (length - 1) * stride + 1, stride,
                                               axis)
    return out


def upsample(x: jax.Array) -> jax.Array:
    """NHWC x -> 2x the resolution: zeros between samples, then the low-pass filter (gain 2
    per axis, so a constant image stays constant)."""
    for axis in (1, 2):
        zeros = jnp.zeros_like(x)
        x = jnp.stack([x, zeros], axis=axis + 1)
        shape = list(zeros.shape)
        shape[axis] *= 2
        x = jnp.reshape(x, shape)
        x = _filter_axis(x, axis, (2, 1), 1, 2.0)
    return x


def blur(x: jax.Array, pad: tuple[int, int], stride: int = 1) -> jax.Array:
    """The low-pass filter over both spatial axes (unit gain), with `pad` and `stride`."""
    for axis in (1, 2):
        x = _filter_axis(x, axis, pad, stride, 1.0)
    return x


def downsample(x: jax.Array) -> jax.Array:
    """NHWC x -> half the resolution, low-pass filtered."""
    return blur(x, (1, 1), 2)


def modulated_weights(kernel: jax.Array, styles: jax.Array,
                      demodulate: bool = True) -> jax.Array:
    """StyleGAN2's per-example kernels: kernel [k, k, in, out] with its input channels scaled
    by styles [batch, in], each output channel then divided by its L2 norm if `demodulate`
    -> [batch, k, k, in, out]."""
    weights = kernel[None] * styles[:, None, None, :, None]
    if demodulate:
        weights = weights * jax.lax.rsqrt(
            jnp.sum(jnp.square(weights), axis=(1, 2, 3), keepdims=True) + 1e-8)
    return weights


def modulated_conv(x: jax.Array, kernel: jax.Array, styles: jax.Array,
                   demodulate: bool = True) -> jax.Array:
    """The stride-1 'SAME' convolution of each example of NHWC x with its own
    `modulated_weights`, computed with one shared convolution: the activations are scaled by
    the styles before it and the outputs by the demodulation factors after it."""
    y = conv2d(x * styles[:, None, None, :].astype(x.dtype), kernel, (1, 1),
               _same_padding(kernel.shape[0]), None)
    if demodulate:
        # |kernel * s|^2 summed over (k, k, in) = s^2 . (|kernel|^2 summed over k, k).
        norms = jnp.square(styles) @ jnp.sum(jnp.square(kernel), axis=(0, 1))
        y = y * jax.lax.rsqrt(norms + 1e-8)[:, None, None, :].astype(y.dtype)
    return y


def adain(x: jax.Array, scale: jax.Array, bias: jax.Array) -> jax.Array:
    """Adaptive instance normalisation: each example's channels of NHWC x normalised over
    space, then given the style's scale and bias [batch, channels]."""
    mean = jnp.mean(x, axis=(1, 2), keepdims=True)
    var = jnp.var(x, axis=(1, 2), keepdims=True)
    x = (x - mean) * jax.lax.rsqrt(var + 1e-8)
    return x * scale[:, None, None, :] + bias[:, None, None, :]


def mix_styles(ws: jax.Array, mixed_ws: jax.Array, cutoff: jax.Array) -> jax.Array:
    """Per example, layers before `cutoff` [batch] keep `ws`, later ones take `mixed_ws`
    (both [batch, num_ws, w_dim])."""
    later = jnp.arange(ws.shape[1])[None, :] >= cutoff[:, None]
    return jnp.where(later[..., None], mixed_ws, ws)


def truncate(ws: jax.Array, w_avg: jax.Array, psi: float | jax.Array) -> jax.Array:
    """The truncation trick: w moved towards the average, w_avg + psi (w - w_avg)."""
    return w_avg + psi * (ws - w_avg)


def minibatch_stddev(x: jax.Array, group_size: int, channels: int = 1) -> jax.Array:
    """Appends `channels` maps holding the standard deviation of the features over groups of
    consecutive examples (of gcd(group_size, batch)), averaged over positions and features."""
    b, h, w, c = x.shape
    group = math.gcd(group_size, b)
    y = jnp.reshape(x.astype(jnp.float32), (b // group, group, h, w, channels, c // channels))
    y = jnp.sqrt(jnp.var(y, axis=1) + 1e-8)  # [b / group, h, w, channels, c / channels]
    y = jnp.mean(y, axis=(1, 2, 4))  # [b / group, channels]
    y = jnp.repeat(y, group, axis=0)[:, None, None, :]
    return jnp.concatenate([x, jnp.broadcast_to(y, (b, h, w, channels)).astype(x.dtype)], -1)


def _same_padding(kernel: int) -> tuple[tuple[int, int], tuple[int, int]]:
    return ((kernel // 2, (kernel - 1) // 2),) * 2


class EqualDense(nn.Module):
    """Dense layer with the equalised learning rate: kernel N(0, 1/lr_mul^2) used times
    lr_mul / sqrt(fan in), bias used times lr_mul."""

    features: int
    lr_mul: float = 1.0
    bias_init: float = 0.0
    use_bias: bool = True

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kernel = self.param("kernel", nn.initializers.normal(1.0 / self.lr_mul),
                            (x.shape[-1], self.features), jnp.float32)
        y = x @ (kernel * (self.lr_mul / math.sqrt(x.shape[-1])))
        if self.use_bias:
            bias = self.param("bias", nn.initializers.constant(self.bias_init / self.lr_mul),
                              (self.features,), jnp.float32)
            y = y + bias * self.lr_mul
        return y


class EqualConv(nn.Module):
    """Convolution with the equalised learning rate ('SAME', or downsampling by 2 through
    the low-pass filter when `down`)."""

    features: int
    kernel_size: int = 3
    down: bool = False
    use_bias: bool = True

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        k = self.kernel_size
        kernel = self.param("kernel", nn.initializers.normal(1.0),
                            (k, k, x.shape[-1], self.features), jnp.float32)
        kernel = (kernel / math.sqrt(k * k * x.shape[-1])).astype(x.dtype)
        if self.down:  # Filter, then a strided 'VALID' convolution (StyleGAN2's padding).
            p = len(FILTER_TAPS) - 2 + k - 1
            x = blur(x, ((p + 1) // 2, p // 2))
            y = conv2d(x, kernel, (2, 2), ((0, 0), (0, 0)), None)
        else:
            y = conv2d(x, kernel, (1, 1), _same_padding(k), None)
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros_init(), (self.features,),
                               jnp.float32).astype(y.dtype)
        return y


def normalise_2nd_moment(x: jax.Array) -> jax.Array:
    """x scaled to unit mean square over its last axis."""
    return x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=-1, keepdims=True) + 1e-8)


class MappingNetwork(nn.Module):
    """z (and a class label) -> w: z scaled to unit mean square, joined by the label's
    embedding (`num_classes` > 0) scaled likewise, then `depth` LeakyReLU dense layers. With
    z None it maps the label alone (D's cmap)."""

    w_dim: int
    depth: int
    lr_mul: float
    num_classes: int = 0

    @nn.compact
    def __call__(self, z: jax.Array | None, labels: jax.Array | None = None) -> jax.Array:
        parts = [] if z is None else [normalise_2nd_moment(z)]
        if self.num_classes:
            batch = z.shape[0] if z is not None else labels.shape[0]
            one_hot = jax.nn.one_hot(labels_for(labels, batch), self.num_classes)
            parts.append(normalise_2nd_moment(EqualDense(self.w_dim, name="embed")(one_hot)))
        x = jnp.concatenate(parts, axis=-1)
        for i in range(self.depth):
            x = lrelu(EqualDense(self.w_dim, self.lr_mul, name=f"dense{i}")(x))
        return x


class StyleLayer(nn.Module):
    """One synthesis layer: (upsampling,) a 3x3 convolution controlled by w, noise, bias and
    LeakyReLU; see the module docstring for the two `style` mechanisms."""

    features: int
    style: str
    up: bool = False
    dtype: Any = jnp.float32
    conv_clamp: float = 0.0

    @nn.compact
    def __call__(self, x: jax.Array, w: jax.Array, noise: jax.Array) -> jax.Array:
        x = x.astype(self.dtype)
        if self.up:
            x = upsample(x)
        kernel = self.param("kernel", nn.initializers.normal(1.0),
                            (3, 3, x.shape[-1], self.features), jnp.float32)
        kernel = (kernel / math.sqrt(9 * x.shape[-1]))
        if self.style == "modulation":
            styles = EqualDense(x.shape[-1], bias_init=1.0, name="style")(w)
            x = modulated_conv(x, kernel.astype(self.dtype), styles)
        else:
            x = conv2d(x, kernel.astype(self.dtype), (1, 1), _same_padding(3), None)
        strength = self.param("noise_strength", nn.initializers.zeros_init(),
                              (self.features,), jnp.float32)
        x = x + (noise * strength).astype(x.dtype)
        x = lrelu(x + self.param("bias", nn.initializers.zeros_init(), (self.features,),
                                 jnp.float32).astype(x.dtype))
        x = clamp(x, self.conv_clamp)
        if self.style == "adain":
            scale_bias = EqualDense(2 * self.features, name="style")(w).astype(x.dtype)
            x = adain(x, 1.0 + scale_bias[:, : self.features], scale_bias[:, self.features :])
        return x


class ToRGB(nn.Module):
    """1x1 convolution to the image channels: modulated (not demodulated) by w under
    "modulation", plain under "adain" (as in StyleGAN)."""

    channels: int
    style: str
    conv_clamp: float = 0.0

    @nn.compact
    def __call__(self, x: jax.Array, w: jax.Array) -> jax.Array:
        kernel = self.param("kernel", nn.initializers.normal(1.0),
                            (1, 1, x.shape[-1], self.channels), jnp.float32)
        kernel = (kernel / math.sqrt(x.shape[-1])).astype(x.dtype)
        if self.style == "modulation":
            styles = EqualDense(x.shape[-1], bias_init=1.0, name="style")(w)
            y = modulated_conv(x, kernel, styles, demodulate=False)
        else:
            y = conv2d(x, kernel, (1, 1), ((0, 0), (0, 0)), None)
        y = y.astype(jnp.float32) + self.param("bias", nn.initializers.zeros_init(),
                                               (self.channels,), jnp.float32)
        return clamp(y, self.conv_clamp)


def channels_at(resolution: int, size: int, width: int, max_width: int) -> int:
    """Channels at `resolution` of a model whose largest resolution `size` has `width`:
    doubling per halving of the resolution, up to `max_width`."""
    return min(width * size // resolution, max_width)


class SynthesisNetwork(nn.Module):
    """ws [batch, num_ws, w_dim] (and per-example keys for the noise) -> images. As in
    StyleGAN, no tanh: the output is linear, and trained towards the data's [-1, 1]."""

    output_shape: tuple[int, ...]
    style: str
    width: int
    max_width: int
    dtype: Any = jnp.float32
    low_precision_res: int = 4
    conv_clamp: float = 0.0

    @nn.compact
    def __call__(self, ws: jax.Array, keys: jax.Array | None,
                 noise_inputs: Sequence[jax.Array] | None = None) -> jax.Array:
        sizes, channels = levels(self.output_shape), self.output_shape[2]
        resolutions = [min(h, w) for h, w in sizes]  # Named by the short side.
        size = resolutions[-1]
        features = [channels_at(r, size, self.width, self.max_width) for r in resolutions]
        b = ws.shape[0]
        const = self.param("const", nn.initializers.normal(1.0), (*sizes[0], features[0]),
                           jnp.float32)
        x = jnp.broadcast_to(const, (b, *const.shape))
        layer = 0
        shapes = noise_shapes(self.output_shape)

        def noise() -> jax.Array:
            shape = shapes[layer]
            if noise_inputs is not None:  # Given, e.g. optimised by the projector.
                return noise_inputs[layer]
            if keys is None:
                key = jax.random.fold_in(jax.random.PRNGKey(FIXED_NOISE_SEED), layer)
                return jax.random.normal(key, (1, *shape), jnp.float32)
            return jax.vmap(lambda k: jax.random.normal(jax.random.fold_in(k, layer), shape,
                                                        jnp.float32))(keys)

        low_from = low_precision_from(size, self.low_precision_res)

        def dtype_at(resolution: int) -> Any:
            return self.dtype if resolution >= low_from else jnp.float32

        x = StyleLayer(features[0], self.style, dtype=dtype_at(resolutions[0]),
                       conv_clamp=self.conv_clamp, name="layer0")(x, ws[:, 0], noise())
        layer = 1
        image = ToRGB(channels, self.style, self.conv_clamp,
                      name=f"to_rgb{resolutions[0]}")(x, ws[:, 1])
        for resolution, width in zip(resolutions[1:], features[1:], strict=True):
            for up in (True, False):
                x = StyleLayer(width, self.style, up=up, dtype=dtype_at(resolution),
                               conv_clamp=self.conv_clamp, name=f"layer{layer}")(
                    x, ws[:, layer], noise())
                layer += 1
            image = upsample(image) + ToRGB(channels, self.style, self.conv_clamp,
                                            name=f"to_rgb{resolution}")(x, ws[:, layer])
        return image


def num_ws(shape: tuple[int, ...]) -> int:
    """The number of per-layer latents of a synthesis network making `shape` (H, W, C)
    images: two a resolution, one at the base, one for the last toRGB."""
    return 2 * len(levels(shape))


def noise_shapes(shape: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """The [H, W, 1] shape of each style layer's noise input, in layer order (base first)."""
    sizes = levels(shape)
    return [(*sizes[0], 1)] + [(h, w, 1) for h, w in sizes[1:] for _ in range(2)]


class StyleGANGenerator(nn.Module):
    """z -> image of `output_shape`; see the module docstring. Call with `keys` (one PRNG key
    per example) for random noise and, in training, style mixing with probability
    `mixing_prob`; `truncation` (psi) moves every w towards the tracked average."""

    takes_example_keys: ClassVar[bool] = True
    zero_allowed: ClassVar[tuple[str, ...]] = ("mapping_depth",)

    output_shape: tuple[int, ...]
    style: str = "modulation"  # adain (StyleGAN) | modulation (StyleGAN2).
    w_dim: int = 512
    mapping_depth: int = 8
    mapping_lr_mul: float = 0.01
    width: int = 64  # Channels at the output resolution, doubling per halving...
    max_width: int = 512  # ...up to this.
    mixing_prob: float = 0.9  # Style-mixing regularisation in training calls.
    w_avg_beta: float = 0.995  # Decay of the tracked average w.
    # Reduced precision: how many of the highest resolutions compute in `dtype`.
    low_precision_res: int = 4
    conv_clamp: float = 0.0  # Clip every layer's output to +-this (0: off; ADA: 256).
    bn_axis_name: str | None = None  # Derived: the device axis the w average spans.
    num_classes: int = 0  # Derived from model.condition and the dataset.
    dtype: Any = jnp.float32  # Derived from train.precision.

    def check_config(self) -> None:
        check_choice(self.style, STYLES, "model.generator.style")
        synthesis_plan(self.output_shape, "model.generator")
        check_precision_fields(self.low_precision_res, self.conv_clamp, "model.generator")
        if self.num_classes and not self.mapping_depth:
            raise ConfigError("model.generator.mapping_depth: a class-conditional style-based "
                              "generator maps [z, label embedding] to w; it needs >= 1 layer")
        if not 0.0 <= self.mixing_prob <= 1.0:
            raise ConfigError(f"model.generator.mixing_prob: a probability in [0, 1], got "
                              f"{self.mixing_prob}")
        if not 0.0 <= self.w_avg_beta < 1.0:
            raise ConfigError(f"model.generator.w_avg_beta: in [0, 1), got {self.w_avg_beta}")
        if not self.mapping_lr_mul > 0:
            raise ConfigError(f"model.generator.mapping_lr_mul: must be > 0, got "
                              f"{self.mapping_lr_mul}")

    @property
    def num_ws(self) -> int:
        return num_ws(self.output_shape)

    def setup(self) -> None:
        self.mapping = MappingNetwork(self.w_dim, self.mapping_depth, self.mapping_lr_mul,
                                      self.num_classes)
        self.synthesis = SynthesisNetwork(tuple(self.output_shape), self.style, self.width,
                                          self.max_width, self.dtype, self.low_precision_res,
                                          self.conv_clamp)
        self.w_avg = self.variable("stats", "w_avg", jnp.zeros, (self.w_dim,), jnp.float32)

    def __call__(self, z: jax.Array, labels: jax.Array | None = None, train: bool = True,
                 keys: jax.Array | None = None,
                 truncation: float | jax.Array = 1.0) -> jax.Array:
        ws = self.map(z, labels, train=train, truncation=truncation)
        if train and keys is not None:
            ws = self.mix(ws, z, keys, truncation, labels)
        return self.synthesize(ws, keys)

    def map(self, z: jax.Array, labels: jax.Array | None = None, train: bool = False,
            truncation: float | jax.Array = 1.0) -> jax.Array:
        """z [batch, dim] (and its labels, when conditional) -> ws [batch, num_ws, w_dim]
        (truncated towards the average w); training calls update the average."""
        w = self.mapping(z, labels if self.num_classes else None)
        if train and not self.is_initializing():
            batch_mean = jnp.mean(w, axis=0)
            if self.bn_axis_name is not None:
                batch_mean = jax.lax.pmean(batch_mean, self.bn_axis_name)
            self.w_avg.value = batch_mean + self.w_avg_beta * (self.w_avg.value - batch_mean)
        w = truncate(w, self.w_avg.value, truncation)
        return jnp.broadcast_to(w[:, None, :], (w.shape[0], self.num_ws, w.shape[-1]))

    def synthesize(self, ws: jax.Array, keys: jax.Array | None = None,
                   noise: Sequence[jax.Array] | None = None) -> jax.Array:
        """ws [batch, num_ws, w_dim] -> images; the layers' noise given (`noise`, arrays of
        `noise_shapes`, with a batch axis), drawn from `keys`, or fixed without either."""
        return self.synthesis(ws, keys, noise)

    def mix(self, ws: jax.Array, z: jax.Array, keys: jax.Array,
            truncation: Any = 1.0, labels: jax.Array | None = None) -> jax.Array:
        """Style mixing of `map(z)`'s ws: for a `mixing_prob` share of the examples, the
        layers from a cutoff drawn uniformly in [1, num_ws) take the w of a second latent
        (for the same label); all three draws come from the example's key (folded with
        num_ws, apart from the layers' noise). Training calls mix; this method is for
        regularisers that need ws."""
        if self.mixing_prob == 0:
            return ws

        def draw(key):
            z_key, cutoff_key, use_key = jax.random.split(jax.random.fold_in(key, self.num_ws), 3)
            cutoff = jax.random.randint(cutoff_key, (), 1, self.num_ws)
            use = jax.random.uniform(use_key) < self.mixing_prob
            return (jax.random.normal(z_key, z.shape[1:], z.dtype),
                    jnp.where(use, cutoff, self.num_ws))

        z2, cutoff = jax.vmap(draw)(keys)
        return mix_styles(ws, self.map(z2, labels, truncation=truncation), cutoff)


class StyleGANDiscriminator(nn.Module):
    """Image -> one logit; see the module docstring."""

    width: int = 64  # Channels at the input resolution, doubling per halving...
    max_width: int = 512  # ...up to this.
    mbstd_group: int = 4  # Examples per minibatch-stddev group (gcd with the batch).
    mbstd_channels: int = 1
    architecture: str = "resnet"  # resnet | orig (no shortcuts; StyleGAN2-ADA's CIFAR-10).
    # Class conditioning: the label's mapping network (depth, and c's size; 0: the 4 x 4 width).
    mapping_depth: int = 8
    cmap_dim: int = 0
    low_precision_res: int = 4  # How many of the highest resolutions compute in `dtype`.
    conv_clamp: float = 0.0  # Clip every conv layer's output to +-this (0: off; ADA: 256).
    num_classes: int = 0  # Derived from model.condition and the dataset.
    dtype: Any = jnp.float32  # Derived from train.precision.

    zero_allowed: ClassVar[tuple[str, ...]] = ("cmap_dim",)

    def check_config(self) -> None:
        check_choice(self.architecture, ARCHITECTURES, "model.discriminator.architecture")
        check_precision_fields(self.low_precision_res, self.conv_clamp, "model.discriminator")

    @nn.compact
    def __call__(self, x: jax.Array, labels: jax.Array | None = None,
                 train: bool = True) -> jax.Array:
        del train  # The same in both modes.
        sizes = levels(x.shape[1:], "model.discriminator")[::-1]
        resolutions = [min(h, w) for h, w in sizes]  # Named by the short side, input first.
        size, base = resolutions[0], resolutions[-1]
        low_from = low_precision_from(size, self.low_precision_res)

        def channels(resolution: int) -> int:
            return channels_at(resolution, size, self.width, self.max_width)

        def conv(x, features, resolution, **kwargs):
            dtype = self.dtype if resolution >= low_from else jnp.float32
            y = EqualConv(features, **kwargs)(x.astype(dtype))
            return clamp(lrelu(y) if kwargs.get("use_bias", True) else y, self.conv_clamp)

        x = conv(x, channels(size), size, kernel_size=1, name="from_rgb")
        for resolution in resolutions[:-1]:
            out = channels(resolution // 2)
            block_in = x
            x = conv(x, channels(resolution), resolution, name=f"conv{resolution}a")
            x = conv(x, out, resolution, down=True, name=f"conv{resolution}b")
            if self.architecture == "resnet":
                skip = conv(block_in, out, resolution, kernel_size=1, down=True,
                            use_bias=False, name=f"skip{resolution}")
                x = (x + skip) * math.sqrt(0.5)
        x = minibatch_stddev(x.astype(jnp.float32), self.mbstd_group, self.mbstd_channels)
        x = clamp(lrelu(EqualConv(channels(base), name=f"conv{base}")(x)), self.conv_clamp)
        x = jnp.reshape(x, (x.shape[0], -1))
        x = lrelu(EqualDense(channels(base), name="dense")(x))
        if not self.num_classes:
            return EqualDense(1, name="logit")(x)[:, 0]
        cmap_dim = self.cmap_dim or channels(base)
        cmap = MappingNetwork(cmap_dim, self.mapping_depth, 0.01, self.num_classes,
                              name="mapping")(None, labels_for(labels, x.shape[0]))
        out = EqualDense(cmap_dim, name="logit")(x)
        return jnp.sum(out * cmap, axis=-1) / math.sqrt(cmap_dim)
