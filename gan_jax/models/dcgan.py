"""DCGAN (Radford et al., 2016) generator and discriminator at any resolution b * 2**k, square
or H x W = b_h * 2**k x b_w * 2**k (`image_plan`).

The generator projects z to a b x b x (width * 2**(k-1)) tensor, then doubles the resolution
k times, halving the channels each time, to an image with `tanh` output. Every layer but the
last has BatchNorm and ReLU. The discriminator mirrors it: k stride-2 4x4 convolutions with
LeakyReLU(0.2), BatchNorm on every layer but the input one, then one linear logit (the same
as DCGAN's final b x b valid convolution). Weights are drawn from N(0, 0.02) and BatchNorm
scales from N(1, 0.02), as in the paper's reference code.

BatchNorm: with `train=True` a layer normalises with the batch's statistics and the caller
receives updated running averages (momentum 0.9, i.e. PyTorch's 0.1); with `train=False` it
uses the running averages. The train step and the sampling code decide which is used where.

Options shared with the other convolutional families (`gan_jax.models.blocks`): `norm`
(batch, instance, layer, group or none; BatchNorm by default, never on D's input layer),
`spectral_norm` on dense/conv layers with `sn_iterations` power iterations, and `attention`, a
SAGAN self-attention block after the layer working at that resolution (0: none).

Class-conditional variants (`num_classes > 0`, see `gan_jax.models.conditioning`): G with
conditional BatchNorm on every normalised layer ("cbn") or a label embedding concatenated to z
("concat"); D with a projection of a label embedding onto the flattened features its logit
reads ("projection"), an auxiliary class head on them ("ac"), or one-hot label channels
concatenated to the image ("concat").
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
    halvings_plan,
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
from gan_jax.models.conv import Conv2D, SubPixelConvTranspose

WEIGHT_INIT = nn.initializers.normal(0.02)
UPSAMPLE_MODES = ("transpose", "nearest", "bilinear")
TRANSPOSE_IMPLS = ("sub_pixel", "lax")


def _scale_init(key: jax.Array, shape: tuple[int, ...], dtype=jnp.float32) -> jax.Array:
    return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


def resolution_plan(size: int, section: str) -> tuple[int, int]:
    """`size` -> (base, k) with size == base * 2**k, base in [3, 8] and k >= 1."""
    base, k = size, 0
    while base % 2 == 0 and base // 2 >= 4:
        base, k = base // 2, k + 1
    if k < 1 or not 3 <= base <= 8:
        raise ConfigError(
            f"{section}: image size {size} cannot be built by DCGAN, which needs "
            "size = b * 2**k with b in [3, 8] and k >= 1 (e.g. 28, 32, 48, 64, 128)"
        )
    return base, k


def image_plan(shape: tuple[int, ...], section: str) -> tuple[tuple[int, int], int, int]:
    """H x W x C -> ((b_h, b_w), k, C) with H = b_h * 2**k and W = b_w * 2**k: a square
    image's `resolution_plan`; a rectangle's k is as large as both sides allow (each halved
    while even and at least 8), its bases in [3, 16]."""
    if len(shape) != 3:
        raise ConfigError(f"{section}: image models build H x W x C images, got shape {shape}")
    height, width, channels = shape
    if height == width:
        base, k = resolution_plan(height, section)
        return (base, base), k, channels

    plan = halvings_plan(height, width, 4, 3, 16)
    if plan is None:
        raise ConfigError(
            f"{section}: a {height}x{width} image cannot be built by these models, which need "
            "H = b_h * 2**k and W = b_w * 2**k for one k >= 1 with bases in [3, 16] (e.g. "
            "32x64, 48x24, 64x128)")
    bases, k = plan
    return bases, k, channels


class DCGANGenerator(Player):
    """z -> image of `output_shape` (H, W, C) in [-1, 1].

    `upsample`: "transpose" (4x4 stride-2 transposed convolutions, as in DCGAN) or "nearest" /
    "bilinear" (weightless 2x resize, then a 3x3 convolution). `transpose_impl`: "sub_pixel"
    runs transposed convolutions as ordinary convolutions (fast everywhere, same numbers);
    "lax" uses `flax.linen.ConvTranspose`.
    """

    zero_allowed: ClassVar[tuple[str, ...]] = ("attention",)  # 0: no attention.

    output_shape: tuple[int, ...]
    width: int = 64
    upsample: str = "transpose"
    transpose_impl: str = "sub_pixel"
    bn_momentum: float = 0.9
    conditioning: str = "cbn"  # Used when class-conditional: cbn | concat.
    class_embed_dim: int = 32  # The label embedding of "concat".
    cbn_scale: float = 1.0  # "cbn": how much faster the per-class tables learn.
    norm: str = "batch"
    attention: int = 0  # Resolution after which a self-attention block is added; 0: none.
    spectral_norm: str = "none"  # none | all | comma-separated dense, conv, embed.
    sn_iterations: int = 1
    num_classes: int = 0  # Derived from model.condition and the dataset.
    bn_axis_name: str | None = None  # Derived from train.batch_norm and the device plan.
    dtype: Any = jnp.float32  # Derived from train.precision.

    def resolutions(self) -> list[int]:
        """The resolutions (heights) of the feature maps before the output layer."""
        (base, _), k, _ = image_plan(self.output_shape, "model.generator")
        return [base * 2**i for i in range(k)]

    def check_config(self) -> None:
        """Rejects settings the module cannot build, before anything is compiled."""
        check_conditioning(self.conditioning, GENERATOR_CONDITIONING, "model.generator")
        check_player_options(self, "model.generator")
        check_attention(self.attention, self.resolutions(), "model.generator")
        if self.upsample not in UPSAMPLE_MODES:
            raise ConfigError(f"model.generator.upsample: {self.upsample!r} is not one of "
                              f"{UPSAMPLE_MODES}")
        if self.transpose_impl not in TRANSPOSE_IMPLS:
            raise ConfigError(f"model.generator.transpose_impl: {self.transpose_impl!r} is not "
                              f"one of {TRANSPOSE_IMPLS}")

    def _upsample(self, x: jax.Array, features: int, use_bias: bool, name: str,
                  train: bool) -> jax.Array:
        if self.upsample == "transpose":
            if self.transpose_impl == "sub_pixel":
                layer = SubPixelConvTranspose(features, (4, 4), (2, 2), padding="SAME",
                                              use_bias=use_bias, kernel_init=WEIGHT_INIT,
                                              name=name)
            else:
                layer = nn.ConvTranspose(features, (4, 4), (2, 2), padding="SAME",
                                         use_bias=use_bias, kernel_init=WEIGHT_INIT,
                                         dtype=self.dtype, name=name)
        else:
            b, h, w, c = x.shape
            x = jax.image.resize(x, (b, 2 * h, 2 * w, c), method=self.upsample)
            layer = Conv2D(features, (3, 3), padding="SAME", use_bias=use_bias,
                           kernel_init=WEIGHT_INIT, name=name)
        return self.spectral(layer, "conv", train)(x)

    def _normalise(self, x: jax.Array, labels: jax.Array | None, train: bool,
                   name: str) -> jax.Array:
        if labels is not None and self.conditioning in ("cbn", "cbn_concat"):
            return ConditionalBatchNorm(self.num_classes, self.bn_momentum, self.bn_axis_name,
                                        0.02, self.cbn_scale, kind=self.norm, dtype=self.dtype,
                                        name=name)(x, labels, train)
        return normalise(x, self.norm, train, name, momentum=self.bn_momentum,
                         axis_name=self.bn_axis_name, scale_init=_scale_init, dtype=self.dtype)

    @nn.compact
    def __call__(self, z: jax.Array, labels: jax.Array | None = None,
                 train: bool = True) -> jax.Array:
        (base, base_w), k, channels = image_plan(self.output_shape, "model.generator")
        features = self.width * 2 ** (k - 1)
        labels = labels_for(labels, z.shape[0]) if self.num_classes else None
        inputs = z.astype(self.dtype)
        if labels is not None and self.conditioning in ("concat", "cbn_concat"):
            embed = nn.Embed(self.num_classes, self.class_embed_dim, dtype=self.dtype,
                             embedding_init=nn.initializers.normal(1.0), name="class_embed")
            embedding = self.spectral(embed, "embed", train)(labels)
            inputs = jnp.concatenate([inputs, embedding], axis=-1)
        # Explicit names, so both transpose_impl values share one parameter tree. No bias
        # before a normalisation, which would subtract it again.
        project = nn.Dense(base * base_w * features, use_bias=self.norm == "none",
                           kernel_init=WEIGHT_INIT, dtype=self.dtype, name="project")
        x = self.spectral(project, "dense", train)(inputs)
        x = jnp.reshape(x, (z.shape[0], base, base_w, features))
        x = nn.relu(self._normalise(x, labels, train, "bn0"))
        for i in range(1, k):
            if self.attention == base * 2 ** (i - 1):
                x = self.attend(x, train)
            features //= 2
            x = self._upsample(x, features, self.norm == "none", f"up{i}", train)
            x = nn.relu(self._normalise(x, labels, train, f"bn{i}"))
        if self.attention == base * 2 ** (k - 1):
            x = self.attend(x, train)
        x = self._upsample(x, channels, True, f"up{k}", train)
        return jnp.tanh(x).astype(jnp.float32)



class DCGANDiscriminator(Player):
    """Image -> one logit. Strided 4x4 convolutions, LeakyReLU(0.2), no BatchNorm on the
    input layer."""

    zero_allowed: ClassVar[tuple[str, ...]] = ("attention",)  # 0: no attention.

    width: int = 64
    bn_momentum: float = 0.9
    conditioning: str = "projection"  # Used when class-conditional: projection | ac | concat.
    norm: str = "batch"
    attention: int = 0  # Resolution after which a self-attention block is added; 0: none.
    spectral_norm: str = "none"  # none | all | comma-separated dense, conv, embed.
    sn_iterations: int = 1
    num_classes: int = 0  # Derived from model.condition and the dataset.
    bn_axis_name: str | None = None  # Derived from train.batch_norm and the device plan.
    dtype: Any = jnp.float32  # Derived from train.precision.

    def check_config(self) -> None:
        check_conditioning(self.conditioning, DISCRIMINATOR_CONDITIONING,
                           "model.discriminator")
        check_player_options(self, "model.discriminator")

    @nn.compact
    def __call__(self, x: jax.Array, labels: jax.Array | None = None,
                 train: bool = True) -> jax.Array | dict[str, jax.Array]:
        size = x.shape[1]  # Attention resolutions are heights.
        _, k, _ = image_plan(x.shape[1:], "model.discriminator")
        check_attention(self.attention, [size // 2 ** (i + 1) for i in range(k)],
                        "model.discriminator")
        if self.num_classes and self.conditioning != "ac":
            labels = labels_for(labels, x.shape[0])
            if self.conditioning == "concat":
                x = one_hot_channels(x, labels, self.num_classes)
        x = x.astype(self.dtype)

        for i in range(k):
            normalised = i > 0 and self.norm != "none"
            conv = Conv2D(self.width * 2**i, (4, 4), (2, 2), padding=((1, 1), (1, 1)),
                          use_bias=not normalised, kernel_init=WEIGHT_INIT, name=f"conv{i}")
            x = self.spectral(conv, "conv", train)(x)
            if normalised:
                x = normalise(x, self.norm, train, f"bn{i}", momentum=self.bn_momentum,
                              axis_name=self.bn_axis_name, scale_init=_scale_init,
                              dtype=self.dtype)
            x = nn.leaky_relu(x, 0.2)
            if self.attention == size // 2 ** (i + 1):
                x = self.attend(x, train)
        x = jnp.reshape(x, (x.shape[0], -1)).astype(jnp.float32)
        logit = self.spectral(nn.Dense(1, kernel_init=WEIGHT_INIT, name="logit"), "dense",
                              train)(x)[:, 0]
        if not self.num_classes:
            return logit
        if self.conditioning == "projection":
            projection = Projection(self.num_classes, spectral_norm=self.spectral_norm,
                                    sn_iterations=self.sn_iterations, name="projection")
            return logit + projection(x, labels, train)
        if self.conditioning == "ac":
            head = nn.Dense(self.num_classes, kernel_init=WEIGHT_INIT, name="class_head")
            return {"logit": logit, "class_logits": self.spectral(head, "dense", train)(x)}
        return logit
