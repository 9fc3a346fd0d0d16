"""BigGAN's generator and discriminator (Brock et al. 2019; reference: ajbrock/BigGAN-PyTorch).

Generator, at any size b * 2**k (or b_h * 2**k x b_w * 2**k): with `hierarchical`, z is split
into k + 1 equal chunks; the first goes through a linear layer to a b x b x (width *
multipliers[0]) tensor, and each of the k up-blocks gets its own chunk. A block's BatchNorms are
conditional: without learned scale and bias, then gain 1 + W_g c and bias W_b c, two bias-free
linear maps of the block's condition c = [shared class embedding, z chunk] (either part absent
when unconditional or not hierarchical; with neither, plain BatchNorm). The shared embedding
(`shared_dim` wide) is one table for all blocks; `shared_dim = 0` gives each layer its own
per-class gains and biases instead (the reference's G_shared off, as in its CIFAR script). An
up-block is cBN, ReLU, 2x nearest upsampling, 3x3 conv, cBN, ReLU, 3x3 conv, plus a shortcut of
upsampling and a 1x1 conv; then BatchNorm, ReLU, a 3x3 conv and tanh. Self-attention after the
block at `attention`; spectral norm on every layer (the reference's G_param SN); `weight_init`
"ortho" (orthogonal, the reference's ImageNet setting), "normal" (N(0, 0.02), its CIFAR script)
or "xavier".

Discriminator: BigGAN's D is SNGAN's residual D made wide (each block's hidden width its
output width) with pre-activation after the first block, a sum over positions, a linear logit
and a projection of the class embedding; that is `ResNetDiscriminator` (models/resnet.py),
registered here with BigGAN's defaults (width 64, multipliers (4, 4, 4, 4), orthogonal init).

Orthogonal regularisation of G's weights is `loss.ortho_weight`; EMA from a given step is
`train.ema_start`; truncated latents at sampling time are `gan-sample --z-truncation`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp
from flax import linen as nn

from gan_jax.config.registry import ConfigError
from gan_jax.models.blocks import check_attention, check_player_options, normalise
from gan_jax.models.conditioning import ConditionalBatchNorm, labels_for
from gan_jax.models.resnet import (
    ResidualPlayer,
    ResNetDiscriminator,
    _upsample,
    generator_plan,
)


class BigGANGenerator(ResidualPlayer):
    """(z, y) -> image of `output_shape` (H, W, C) in [-1, 1]; see the module docstring."""

    zero_allowed: ClassVar[tuple[str, ...]] = ("attention", "shared_dim")

    output_shape: tuple[int, ...]
    width: int = 64
    multipliers: tuple[int, ...] = ()  # k + 1 entries; () means all 4 (BigGAN's 32x32).
    hierarchical: bool = True
    shared_dim: int = 128  # 0: per-layer class gains and biases instead of a shared table.
    attention: int = 0
    spectral_norm: str = "dense,conv"  # The reference's G_param SN: not the shared embedding.
    sn_iterations: int = 1
    bn_momentum: float = 0.9
    weight_init: str = "ortho"  # ortho | normal (N(0, 0.02)) | xavier
    num_classes: int = 0  # Derived from model.condition and the dataset.
    bn_axis_name: str | None = None  # Derived from train.batch_norm and the device plan.
    dtype: Any = jnp.float32  # Derived from train.precision.

    norm: ClassVar[str] = "batch"  # For the shared option checks.
    conditioning: ClassVar[str] = "cbn"

    def plan(self) -> tuple[tuple[int, int], int, tuple[int, ...], list[int]]:
        """((b_h, b_w), channels, multipliers, resolutions)."""
        return generator_plan(self.output_shape, self.multipliers, 4)

    def check_config(self) -> None:
        check_player_options(self, "model.generator")
        self.check_init("model.generator")
        *_, resolutions = self.plan()
        check_attention(self.attention, resolutions, "model.generator")

    def chunks(self, latent_dim: int) -> int:
        """How many pieces z is split into."""
        *_, resolutions = self.plan()
        pieces = len(resolutions) if self.hierarchical else 1
        if latent_dim % pieces:
            raise ConfigError(
                f"model.latent_dim: the hierarchical latent is split into {pieces} equal chunks "
                f"(one for the input, one per up-block), so {latent_dim} must be a multiple of "
                f"{pieces}")
        return pieces

    def _cbn(self, x: jax.Array, condition: jax.Array | None, labels: jax.Array | None,
             train: bool, name: str) -> jax.Array:
        """BatchNorm with gain and bias from the block's condition vector, or per-class
        tables (no shared embedding, not hierarchical), or plain."""
        if condition is None and labels is not None:
            return ConditionalBatchNorm(self.num_classes, self.bn_momentum, self.bn_axis_name,
                                        dtype=self.dtype, name=name)(x, labels, train)
        if condition is None:
            return normalise(x, "batch", train, name, momentum=self.bn_momentum,
                             axis_name=self.bn_axis_name, dtype=self.dtype)
        x = normalise(x, "batch", train, name, momentum=self.bn_momentum,
                      axis_name=self.bn_axis_name, affine=False, dtype=self.dtype)
        features = x.shape[-1]
        gain = 1.0 + self.dense(condition, features, f"{name}_gain", train, use_bias=False)
        bias = self.dense(condition, features, f"{name}_bias", train, use_bias=False)
        return x * gain[:, None, None, :].astype(x.dtype) + bias[:, None, None, :].astype(x.dtype)

    @nn.compact
    def __call__(self, z: jax.Array, labels: jax.Array | None = None,
                 train: bool = True) -> jax.Array:
        (base, base_w), channels, multipliers, resolutions = self.plan()
        pieces = self.chunks(z.shape[-1])
        labels = labels_for(labels, z.shape[0]) if self.num_classes else None
        zs = jnp.split(z.astype(self.dtype), pieces, axis=-1)
        parts = []
        if labels is not None:
            if self.shared_dim:
                embed = nn.Embed(self.num_classes, self.shared_dim, dtype=self.dtype,
                                 embedding_init=self.kernel_init(), name="shared_embed")
                parts.append(self.spectral(embed, "embed", train)(labels))
            elif self.hierarchical:  # Per-layer linear maps of a one-hot label.
                parts.append(jax.nn.one_hot(labels, self.num_classes, dtype=self.dtype))
        features = self.width * multipliers[0]
        x = self.dense(zs[0], base * base_w * features, "project", train)
        x = jnp.reshape(x, (z.shape[0], base, base_w, features))
        if self.attention == base:
            x = self.attend(x, train)
        for i, multiplier in enumerate(multipliers[1:], start=1):
            block_parts = parts + ([zs[i]] if self.hierarchical else [])
            condition = jnp.concatenate(block_parts, axis=-1) if block_parts else None
            features = self.width * multiplier
            h = nn.relu(self._cbn(x, condition, labels, train, f"block{i}_norm1"))
            h = self.conv(_upsample(h), features, 3, f"block{i}_conv1", train)
            h = nn.relu(self._cbn(h, condition, labels, train, f"block{i}_norm2"))
            h = self.conv(h, features, 3, f"block{i}_conv2", train)
            x = h + self.conv(_upsample(x), features, 1, f"block{i}_shortcut", train)
            if self.attention == resolutions[i]:
                x = self.attend(x, train)
        x = nn.relu(normalise(x, "batch", train, "out_norm", momentum=self.bn_momentum,
                              axis_name=self.bn_axis_name, dtype=self.dtype))
        return jnp.tanh(self.conv(x, channels, 3, "out_conv", train)).astype(jnp.float32)


class BigGANDiscriminator(ResNetDiscriminator):
    """`ResNetDiscriminator` with BigGAN's defaults; see the module docstring."""

    width: int = 64
    multipliers: tuple[int, ...] = (4, 4, 4, 4)
    weight_init: str = "ortho"

