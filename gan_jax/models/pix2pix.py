"""pix2pix (Isola et al., 2017): a U-Net generator and a PatchGAN discriminator.

`UNetGenerator` maps an input image to an output image. Its encoder halves the resolution
`depth` times with 4x4 stride-2 convolutions (LeakyReLU 0.2, normalisation on every layer but
the first and the innermost); its decoder doubles it back with 4x4 stride-2 transposed
convolutions (ReLU, normalisation), and each decoder layer also reads the encoder features of
its resolution (skip connections), so detail need not pass through the bottleneck. Dropout on
the innermost `dropout_layers` decoder layers is G's only noise, as in the paper; with
`dropout_at_sampling` it stays on when sampling (the paper's test-time setting).

`PatchDiscriminator` judges (output, input) pairs concatenated along channels (the output
alone with `sees_input=False`) and returns one logit per patch: a [n, h, w] map whose every
entry sees a `patch` x `patch` window of the image (`receptive_field`). `patch` 1 is the
paper's PixelGAN (1x1 convolutions); otherwise `patch` must be the receptive field of some
number of stride-2 layers (16, 34, 70, 142, 286, ...), and 0 takes the smallest such field that
covers the whole image (the paper's ImageGAN).

Normalisation (`norm`): "batch" (BatchNorm; running averages when sampling), "instance",
"layer", "group" or "none"; a convolution followed by a normalisation has no bias (the
normalisation's mean subtraction would cancel it). Weights are drawn from N(0, 0.02), as in
the paper's code.
"""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp
from flax import linen as nn

from gan_jax.config.registry import ConfigError
from gan_jax.models.blocks import NORMS, check_choice, normalise
from gan_jax.models.conv import Conv2D, SubPixelConvTranspose

WEIGHT_INIT = nn.initializers.normal(0.02)
MAX_PATCH_LAYERS = 8


def _scale_init(key: jax.Array, shape: tuple[int, ...], dtype=jnp.float32) -> jax.Array:
    return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


class Normalise(nn.Module):
    """One of `blocks.NORMS`; BatchNorm's statistics span `axis_name`."""

    kind: str
    momentum: float = 0.9
    axis_name: str | None = None

    @nn.compact
    def __call__(self, x: jax.Array, train: bool) -> jax.Array:
        name = {"batch": "BatchNorm_0", "instance": "InstanceNorm_0", "layer": "LayerNorm_0",
                "group": "GroupNorm_0"}.get(self.kind, "none")
        return normalise(x, self.kind, train, name, momentum=self.momentum,
                         axis_name=self.axis_name, scale_init=_scale_init)


class BatchDropout(nn.Module):
    """Dropout whose mask is drawn for the global batch and then cut to this device's rows,
    so a pmapped run drops exactly what a one-device run drops (`axis_name`: the device axis,
    None on one device). Draws from the "dropout" RNG stream."""

    rate: float
    axis_name: str | None = None

    @nn.compact
    def __call__(self, x: jax.Array, active: bool) -> jax.Array:
        if not active or self.rate == 0.0:
            return x
        key = self.make_rng("dropout")
        rows = x.shape[0]
        keep_shape, start = x.shape, 0
        if self.axis_name is not None:
            keep_shape = (rows * jax.lax.psum(1, self.axis_name), *x.shape[1:])
            start = jax.lax.axis_index(self.axis_name) * rows
        keep = jax.random.bernoulli(key, 1.0 - self.rate, keep_shape)
        keep = jax.lax.dynamic_slice_in_dim(keep, start, rows)
        return jnp.where(keep, x / (1.0 - self.rate), 0.0).astype(x.dtype)


class UNetGenerator(nn.Module):
    """Input image [n, H, W, Ca] -> output image [n, H, W, C] in [-1, 1] (`output_shape`).

    `depth` stride-2 levels (0: down to 1x1, log2 of the side); the encoder's features double
    from `width` per level up to `width * max_multiplier`.
    """

    translates: ClassVar[bool] = True  # Reads an input image, not a latent.
    zero_allowed: ClassVar[tuple[str, ...]] = ("depth", "dropout_layers")

    output_shape: tuple[int, ...]
    width: int = 64
    depth: int = 0
    max_multiplier: int = 8
    norm: str = "batch"
    dropout_rate: float = 0.5
    dropout_layers: int = 3
    dropout_at_sampling: bool = True
    bn_momentum: float = 0.9
    bn_axis_name: str | None = None  # Derived from train.batch_norm and the device plan.

    def levels(self) -> int:
        side = self.output_shape[0]
        if self.depth:
            return self.depth
        return max(1, side.bit_length() - 1)

    def check_config(self) -> None:
        check_choice(self.norm, NORMS, "model.generator.norm")
        if len(self.output_shape) != 3 or self.output_shape[0] != self.output_shape[1]:
            raise ConfigError(f"model.generator: the U-Net needs square H x W x C images, got "
                              f"{self.output_shape}")
        for key in self.zero_allowed:
            if getattr(self, key) < 0:
                raise ConfigError(f"model.generator.{key}: must be >= 0, got "
                                  f"{getattr(self, key)}")
        side, levels = self.output_shape[0], self.levels()
        if side % 2**levels:
            raise ConfigError(f"model.generator.depth: {levels} stride-2 levels need an image "
                              f"side divisible by {2**levels}, got {side}")
        if not 0.0 <= self.dropout_rate < 1.0:
            raise ConfigError(f"model.generator.dropout_rate: must be in [0, 1), got "
                              f"{self.dropout_rate}")
        if self.dropout_layers > levels:
            raise ConfigError(f"model.generator.dropout_layers: {self.dropout_layers}, but the "
                              f"U-Net has {levels} decoder layers")

    @nn.compact
    def __call__(self, x: jax.Array, labels: jax.Array | None = None,
                 train: bool = True) -> jax.Array:
        del labels  # The input image is the condition.
        levels = self.levels()
        features = [self.width * min(2**i, self.max_multiplier) for i in range(levels)]
        skips = []
        for i in range(levels):
            if i > 0:
                x = nn.leaky_relu(x, 0.2)
            x = Conv2D(features[i], (4, 4), (2, 2), padding=((1, 1), (1, 1)),
                       use_bias=not 0 < i < levels - 1 or self.norm == "none",
                       kernel_init=WEIGHT_INIT, name=f"down{i}")(x)
            if 0 < i < levels - 1:
                x = Normalise(self.norm, self.bn_momentum, self.bn_axis_name,
                              name=f"down_norm{i}")(x, train)
            skips.append(x)
        drop = train or self.dropout_at_sampling
        for i in reversed(range(levels)):  # Decoder level i mirrors encoder level i.
            if i < levels - 1:
                x = jnp.concatenate([x, skips[i]], axis=-1)
            x = nn.relu(x)
            out = self.output_shape[-1] if i == 0 else features[i - 1]
            x = SubPixelConvTranspose(out, (4, 4), (2, 2), padding="SAME",
                                      use_bias=i == 0 or self.norm == "none",
                                      kernel_init=WEIGHT_INIT, name=f"up{i}")(x)
            if i > 0:
                x = Normalise(self.norm, self.bn_momentum, self.bn_axis_name,
                              name=f"up_norm{i}")(x, train)
                if levels - i <= self.dropout_layers:
                    # Global masks in training; when sampling each device draws its own.
                    x = BatchDropout(self.dropout_rate,
                                     self.bn_axis_name if train else None)(x, drop)
        return jnp.tanh(x)


def receptive_field(layers: int) -> int:
    """The receptive field of a PatchGAN with `layers` stride-2 4x4 convolutions followed by
    two stride-1 4x4 convolutions (`layers` 0: the 1x1 PixelGAN)."""
    if layers == 0:
        return 1
    field, jump = 1, 1
    for stride in [2] * layers + [1, 1]:
        field += 3 * jump  # Each 4x4 layer widens the field by (4 - 1) input steps.
        jump *= stride
    return field


def patch_layers(patch: int, image_side: int, section: str = "model.discriminator") -> int:
    """The number of stride-2 layers whose receptive field is `patch` (0: the smallest that
    covers `image_side`)."""
    fields = {receptive_field(n): n for n in range(MAX_PATCH_LAYERS + 1)}
    if patch == 0:
        return next(n for f, n in sorted(fields.items()) if f >= image_side or
                    n == MAX_PATCH_LAYERS)
    if patch not in fields:
        raise ConfigError(f"{section}.patch: {patch} is not a PatchGAN receptive field; choose "
                          f"one of {', '.join(map(str, sorted(fields)))} (0: the whole image)")
    return fields[patch]


class PatchDiscriminator(nn.Module):
    """(image, input image) -> patch logits [n, h, w]."""

    translates: ClassVar[bool] = True  # Judges (output, input image) pairs.
    zero_allowed: ClassVar[tuple[str, ...]] = ("patch",)

    width: int = 64
    patch: int = 70
    max_multiplier: int = 8
    norm: str = "batch"
    sees_input: bool = True  # False: D judges the output alone (an unconditional D).
    bn_momentum: float = 0.9
    bn_axis_name: str | None = None  # Derived from train.batch_norm and the device plan.

    def check_config(self) -> None:
        check_choice(self.norm, NORMS, "model.discriminator.norm")
        if self.patch < 0:
            raise ConfigError(f"model.discriminator.patch: must be >= 0, got {self.patch}")
        patch_layers(self.patch, 256)

    @nn.compact
    def __call__(self, x: jax.Array, condition: jax.Array | None = None,
                 train: bool = True) -> jax.Array:
        if self.sees_input:
            if condition is None:
                raise ValueError("PatchDiscriminator(sees_input=True) needs the input image")
            x = jnp.concatenate([x, condition], axis=-1)
        layers = patch_layers(self.patch, x.shape[1])
        side = x.shape[1] // 2**layers - 2 if layers else x.shape[1]
        if side < 1:
            raise ConfigError(f"model.discriminator.patch: a {self.patch}x{self.patch} PatchGAN "
                              f"has no output on {x.shape[1]}x{x.shape[2]} images; use a "
                              "smaller patch, or 0 for the whole image")
        if layers == 0:  # PixelGAN: 1x1 convolutions.
            x = nn.leaky_relu(Conv2D(self.width, (1, 1), kernel_init=WEIGHT_INIT,
                                     name="conv0")(x), 0.2)
            x = Conv2D(2 * self.width, (1, 1), use_bias=self.norm == "none",
                       kernel_init=WEIGHT_INIT, name="conv1")(x)
            x = nn.leaky_relu(Normalise(self.norm, self.bn_momentum, self.bn_axis_name,
                                        name="norm1")(x, train), 0.2)
            return Conv2D(1, (1, 1), kernel_init=WEIGHT_INIT, name="logits")(x)[..., 0]
        strides = [2] * layers + [1]
        for i, stride in enumerate(strides):
            x = Conv2D(self.width * min(2**i, self.max_multiplier), (4, 4), (stride, stride),
                       padding=((1, 1), (1, 1)), use_bias=i == 0 or self.norm == "none",
                       kernel_init=WEIGHT_INIT, name=f"conv{i}")(x)
            if i > 0:
                x = Normalise(self.norm, self.bn_momentum, self.bn_axis_name,
                              name=f"norm{i}")(x, train)
            x = nn.leaky_relu(x, 0.2)
        return Conv2D(1, (4, 4), padding=((1, 1), (1, 1)), kernel_init=WEIGHT_INIT,
                      name="logits")(x)[..., 0]
