"""SNGAN's residual generator and discriminator (Miyato et al. 2018), at any size b * 2**k
(or H x W = b_h * 2**k x b_w * 2**k).

Generator: z -> a b x b x (width * multipliers[0]) tensor, then k up-blocks, block i giving
width * multipliers[i + 1] channels at twice the resolution, then norm, ReLU, a 3x3
convolution and tanh. An up-block is norm, ReLU, 2x nearest upsampling, 3x3 conv, norm, ReLU,
3x3 conv, plus a shortcut of upsampling and a 1x1 conv. Multipliers (1, 1, 1, 1) with width
256 and k = 3 are SNGAN's CIFAR-10 generator; (16, 8, 4, 2, 1) with width 64 its 64 x 64 one.

Discriminator: one block per multiplier (width * multiplier channels); the first `downsample`
blocks halve the resolution by 2x2 average pooling. The first block is SNGAN's "optimised"
one (conv, ReLU, conv, pool, with a pool-then-1x1 shortcut), later ones are ReLU, conv, ReLU,
conv (and pool), with a 1x1 shortcut where the shape changes. Then ReLU, a sum over positions,
and a linear logit. Spectral normalisation is on every layer of D by default, as in SNGAN.

Both take `norm` (see `blocks.NORMS`; G batch, D none by default), `spectral_norm`, and
`attention`: the resolution after which a SAGAN self-attention block is inserted (0: none).
Class-conditional variants: G with conditional normalisation ("cbn"), a label embedding
concatenated to z ("concat"), or both; D with a projection ("projection"), an auxiliary
classifier ("ac") or one-hot label channels ("concat").
"""

from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import linen as nn

from gan_jax.config.registry import ConfigError
from gan_jax.models.blocks import (
    Player,
    check_attention,
    check_player_options,
    normalise,
)
from gan_jax.models.conditioning import (
    DISCRIMINATOR_CONDITIONING,
    GENERATOR_CONDITIONING,
    ConditionalBatchNorm,
    Projection,
    check_conditioning,
    labels_for,
    one_hot_channels,
)
from gan_jax.models.conv import Conv2D
from gan_jax.models.dcgan import image_plan

CONV_INIT = nn.initializers.xavier_uniform()
# Weight initialisations by name: SNGAN's Xavier-uniform, BigGAN-PyTorch's N(0, 0.02) ("N02")
# and orthogonal ("ortho").
INITS = {"xavier": CONV_INIT, "normal": nn.initializers.normal(0.02),
         "ortho": nn.initializers.orthogonal()}


def _upsample(x: jax.Array) -> jax.Array:
    return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


def _downsample(x: jax.Array) -> jax.Array:
    return nn.avg_pool(x, (2, 2), (2, 2))


class ResidualPlayer(Player):
    """Shared layer helpers of the residual players (these, and BigGAN's generator)."""

    def kernel_init(self) -> nn.initializers.Initializer:
        return INITS[self.weight_init]

    def check_init(self, section: str) -> None:
        if self.weight_init not in INITS:
            raise ConfigError(f"{section}.weight_init: {self.weight_init!r} is not one of "
                              f"{', '.join(INITS)}")

    def conv(self, x: jax.Array, features: int, kernel: int, name: str,
             train: bool) -> jax.Array:
        layer = Conv2D(features, (kernel, kernel), padding="SAME",
                       kernel_init=self.kernel_init(), name=name)
        return self.spectral(layer, "conv", train)(x)

    def dense(self, x: jax.Array, features: int, name: str, train: bool,
              use_bias: bool = True) -> jax.Array:
        layer = nn.Dense(features, use_bias=use_bias, kernel_init=self.kernel_init(),
                         dtype=self.dtype, name=name)
        return self.spectral(layer, "dense", train)(x)



def generator_plan(output_shape: tuple[int, ...], multipliers: tuple[int, ...],
                   default: int) -> tuple[tuple[int, int], int, tuple[int, ...], list[int]]:
    """A residual generator's ((b_h, b_w), channels, multipliers, resolutions (heights)) for
    images of `output_shape`: k up-blocks from b_h x b_w, k + 1 multipliers (`()`: all
    `default`)."""
    bases, k, channels = image_plan(output_shape, "model.generator")
    multipliers = tuple(multipliers) or (default,) * (k + 1)
    if len(multipliers) != k + 1:
        height, width = output_shape[:2]
        start = f"{bases[0]}x{bases[1]}"
        raise ConfigError(
            f"model.generator.multipliers: {height}x{width} images take {k} up-blocks from "
            f"{start}, so {k + 1} multipliers (the first for the {start} input), got "
            f"{len(multipliers)}")
    return bases, channels, multipliers, [bases[0] * 2**i for i in range(k + 1)]


class ResNetGenerator(ResidualPlayer):
    """z -> image of `output_shape` (H, W, C) in [-1, 1]; see the module docstring."""

    zero_allowed: ClassVar[tuple[str, ...]] = ("attention",)  # 0: no attention.

    output_shape: tuple[int, ...]
    width: int = 128
    multipliers: tuple[int, ...] = ()  # k + 1 entries; () means all 1.
    norm: str = "batch"
    attention: int = 0
    spectral_norm: str = "none"
    sn_iterations: int = 1
    bn_momentum: float = 0.9
    conditioning: str = "cbn"  # Used when class-conditional: cbn | concat | cbn_concat.
    class_embed_dim: int = 32
    cbn_scale: float = 1.0
    weight_init: str = "xavier"  # xavier | normal (N(0, 0.02)) | ortho
    num_classes: int = 0  # Derived from model.condition and the dataset.
    bn_axis_name: str | None = None  # Derived from train.batch_norm and the device plan.
    dtype: Any = jnp.float32  # Derived from train.precision.

    def plan(self) -> tuple[tuple[int, int], int, tuple[int, ...], list[int]]:
        """((b_h, b_w), channels, multipliers, resolutions)."""
        return generator_plan(self.output_shape, self.multipliers, 1)

    def check_config(self) -> None:
        check_conditioning(self.conditioning, GENERATOR_CONDITIONING, "model.generator")
        check_player_options(self, "model.generator")
        self.check_init("model.generator")
        *_, resolutions = self.plan()
        check_attention(self.attention, resolutions, "model.generator")

    def _normalise(self, x: jax.Array, labels: jax.Array | None, train: bool,
                   name: str) -> jax.Array:
        if labels is not None and "cbn" in self.conditioning:
            return ConditionalBatchNorm(self.num_classes, self.bn_momentum, self.bn_axis_name,
                                        0.0, self.cbn_scale, kind=self.norm, dtype=self.dtype,
                                        name=name)(x, labels, train)
        return normalise(x, self.norm, train, name, momentum=self.bn_momentum,
                         axis_name=self.bn_axis_name, dtype=self.dtype)

    @nn.compact
    def __call__(self, z: jax.Array, labels: jax.Array | None = None,
                 train: bool = True) -> jax.Array:
        (base, base_w), channels, multipliers, resolutions = self.plan()
        labels = labels_for(labels, z.shape[0]) if self.num_classes else None
        inputs = z.astype(self.dtype)
        if labels is not None and "concat" in self.conditioning:
            embed = nn.Embed(self.num_classes, self.class_embed_dim, dtype=self.dtype,
                             embedding_init=nn.initializers.normal(1.0), name="class_embed")
            embedding = self.spectral(embed, "embed", train)(labels)
            inputs = jnp.concatenate([inputs, embedding], axis=-1)
        features = self.width * multipliers[0]
        x = self.dense(inputs, base * base_w * features, "project", train)
        x = jnp.reshape(x, (z.shape[0], base, base_w, features))
        if self.attention == base:
            x = self.attend(x, train)
        for i, multiplier in enumerate(multipliers[1:], start=1):
            features = self.width * multiplier
            h = nn.relu(self._normalise(x, labels, train, f"block{i}_norm1"))
            h = self.conv(_upsample(h), features, 3, f"block{i}_conv1", train)
            h = nn.relu(self._normalise(h, labels, train, f"block{i}_norm2"))
            h = self.conv(h, features, 3, f"block{i}_conv2", train)
            x = h + self.conv(_upsample(x), features, 1, f"block{i}_shortcut", train)
            if self.attention == resolutions[i]:
                x = self.attend(x, train)
        x = nn.relu(self._normalise(x, labels, train, "out_norm"))
        return jnp.tanh(self.conv(x, channels, 3, "out_conv", train)).astype(jnp.float32)


class ResNetDiscriminator(ResidualPlayer):
    """Image -> one logit; see the module docstring."""

    zero_allowed: ClassVar[tuple[str, ...]] = ("attention",)  # 0: no attention.

    width: int = 128
    multipliers: tuple[int, ...] = (1, 1, 1, 1)
    downsample: int = 2  # The first `downsample` blocks halve the resolution.
    norm: str = "none"
    attention: int = 0
    spectral_norm: str = "all"
    sn_iterations: int = 1
    bn_momentum: float = 0.9
    conditioning: str = "projection"  # Used when class-conditional: projection | ac | concat.
    weight_init: str = "xavier"  # xavier | normal (N(0, 0.02)) | ortho
    num_classes: int = 0  # Derived from model.condition and the dataset.
    bn_axis_name: str | None = None  # Derived from train.batch_norm and the device plan.
    dtype: Any = jnp.float32  # Derived from train.precision.

    def check_config(self) -> None:
        check_conditioning(self.conditioning, DISCRIMINATOR_CONDITIONING,
                           "model.discriminator")
        check_player_options(self, "model.discriminator")
        self.check_init("model.discriminator")
        if self.downsample > len(self.multipliers):
            raise ConfigError(
                f"model.discriminator.downsample: {self.downsample} down-sampling blocks, but "
                f"only {len(self.multipliers)} blocks (one per multiplier)")

    def _normalise(self, x: jax.Array, train: bool, name: str) -> jax.Array:
        return normalise(x, self.norm, train, name, momentum=self.bn_momentum,
                         axis_name=self.bn_axis_name, dtype=self.dtype)

    def resolutions(self, size: int, width: int | None = None) -> list[int]:
        """The resolution (height) after each block, for `size` x `width` inputs (square
        without `width`)."""
        width = size if width is None else width
        found = []
        for i in range(len(self.multipliers)):
            if i < self.downsample:
                if size % 2 or width % 2:
                    raise ConfigError(
                        f"model.discriminator.downsample: block {i + 1} would halve a "
                        f"{size}x{width} input; use fewer down-sampling blocks")
                size, width = size // 2, width // 2
            found.append(size)
        return found

    @nn.compact
    def __call__(self, x: jax.Array, labels: jax.Array | None = None,
                 train: bool = True) -> jax.Array | dict[str, jax.Array]:
        if x.ndim != 4:
            raise ConfigError(f"model.discriminator: expected [batch, H, W, C] images, got "
                              f"{x.shape}")
        resolutions = self.resolutions(x.shape[1], x.shape[2])
        check_attention(self.attention, resolutions, "model.discriminator")
        if self.num_classes and self.conditioning != "ac":
            labels = labels_for(labels, x.shape[0])
            if self.conditioning == "concat":
                x = one_hot_channels(x, labels, self.num_classes)
        x = x.astype(self.dtype)
        attended = False
        for i, multiplier in enumerate(self.multipliers):
            features, down = self.width * multiplier, i < self.downsample
            name = f"block{i + 1}"
            if i == 0:  # SNGAN's first block: no activation on the image itself.
                h = self.conv(x, features, 3, f"{name}_conv1", train)
                h = nn.relu(self._normalise(h, train, f"{name}_norm1"))
                h = self.conv(h, features, 3, f"{name}_conv2", train)
                h = _downsample(h) if down else h
                shortcut = _downsample(x) if down else x
                shortcut = self.conv(shortcut, features, 1, f"{name}_shortcut", train)
            else:
                h = nn.relu(self._normalise(x, train, f"{name}_norm1"))
                h = self.conv(h, features, 3, f"{name}_conv1", train)
                h = nn.relu(self._normalise(h, train, f"{name}_norm2"))
                h = self.conv(h, features, 3, f"{name}_conv2", train)
                h = _downsample(h) if down else h
                shortcut = x
                if down or x.shape[-1] != features:
                    shortcut = self.conv(x, features, 1, f"{name}_shortcut", train)
                    shortcut = _downsample(shortcut) if down else shortcut
            x = h + shortcut
            if self.attention == resolutions[i] and not attended:  # Once, at the first.
                x, attended = self.attend(x, train), True
        features = jnp.sum(nn.relu(x), axis=(1, 2)).astype(jnp.float32)
        logit = self.dense(features, 1, "logit", train)[:, 0].astype(jnp.float32)
        if not self.num_classes:
            return logit
        if self.conditioning == "projection":
            projection = Projection(self.num_classes, self.kernel_init(),
                                    spectral_norm=self.spectral_norm,
                                    sn_iterations=self.sn_iterations, name="projection")
            return logit + projection(features, labels, train)
        if self.conditioning == "ac":
            return {"logit": logit,
                    "class_logits": self.dense(features, self.num_classes, "class_head",
                                               train).astype(jnp.float32)}
        return logit
