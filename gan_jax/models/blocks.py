"""Options the convolutional families share: the normalisation layer, spectral normalisation
of dense, convolutional and embedding layers, and SAGAN's self-attention block.

Spectral normalisation (Miyato et al. 2018) divides a layer's kernel by an estimate of its
largest singular value, kept by power iteration (Flax's `nn.SpectralNorm`). The iteration's
vectors live in the `spectral` collection of the model state, next to BatchNorm statistics:
they are updated by training-mode calls only, saved with checkpoints, and, being a function of
the (replicated) kernel alone, equal on every device under pmap.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
from flax import linen as nn

from gan_jax.config.registry import ConfigError

NORMS = ("batch", "instance", "layer", "group", "none")
SPECTRAL_KINDS = ("dense", "conv", "embed")
SPECTRAL_COLLECTION = "spectral"
GROUPS = 32  # Group norm's groups (fewer when the channels are not a multiple of 32).


def check_choice(value: str, known: tuple[str, ...], key: str) -> None:
    if value not in known:
        raise ConfigError(f"{key}: {value!r} is not one of {', '.join(known)}")


def check_attention(resolution: int, reached: list[int], section: str) -> None:
    if resolution < 0:
        raise ConfigError(f"{section}.attention: must be >= 0 (0: no attention), got "
                          f"{resolution}")
    if resolution and resolution not in reached:
        raise ConfigError(
            f"{section}.attention: the model never works at {resolution}x{resolution}; its "
            f"resolutions are {', '.join(str(r) for r in sorted(set(reached)))} (0: no "
            "attention)")


def check_player_options(module: nn.Module, section: str) -> None:
    """The options every convolutional player shares: `norm`, `spectral_norm` and, for a
    class-conditional generator with conditional normalisation, a norm to condition."""
    check_choice(module.norm, NORMS, f"{section}.norm")
    spectral_kinds(module.spectral_norm, f"{section}.spectral_norm")
    if (section == "model.generator" and module.num_classes and "cbn" in module.conditioning
            and module.norm == "none"):
        raise ConfigError("model.generator.norm: conditioning 'cbn' needs a normalisation to "
                          "condition; choose a norm or conditioning='concat'")


def spectral_kinds(value: str, key: str) -> frozenset[str]:
    """`model.*.spectral_norm` -> the layer types it normalises: "none", "all", or a
    comma-separated subset of dense, conv, embed."""
    value = value.strip()
    if value in ("", "none"):
        return frozenset()
    if value == "all":
        return frozenset(SPECTRAL_KINDS)
    kinds = [k.strip() for k in value.split(",")]
    for kind in kinds:
        if kind not in SPECTRAL_KINDS:
            raise ConfigError(
                f"{key}: spectral norm cannot be applied to {kind!r} layers; layer types that "
                f"take it: {', '.join(SPECTRAL_KINDS)} (or 'all', 'none')")
    return frozenset(kinds)


def maybe_spectral(layer: nn.Module, kind: str, spectral_norm: str, iterations: int,
                   train: bool) -> Callable[..., jax.Array]:
    """`layer`, spectrally normalised when `kind` is among the `spectral_norm` setting's
    types. The power iteration's state is updated only when `train`."""
    if kind not in spectral_kinds(spectral_norm, "spectral_norm"):
        return layer
    wrapped = nn.SpectralNorm(layer, n_steps=iterations, collection_name=SPECTRAL_COLLECTION,
                              name=f"{layer.name}_sn")
    return lambda *args: wrapped(*args, update_stats=train)


def normalise(x: jax.Array, kind: str, train: bool, name: str, *, momentum: float = 0.9,
              axis_name: str | None = None, affine: bool = True,
              scale_init: nn.initializers.Initializer = nn.initializers.ones,
              dtype: jnp.dtype | None = None) -> jax.Array:
    """`x` [batch, ..., channels] normalised by `kind` (see NORMS). "batch" keeps running
    statistics (and spans `axis_name` under pmap); "instance" normalises each example's
    channels over space; "layer" each example over all its features; "group" each example
    over groups of channels and space; "none" returns `x`. Statistics are float32."""
    common = dict(epsilon=1e-5, use_scale=affine, use_bias=affine, scale_init=scale_init,
                  dtype=dtype, name=name)
    if kind == "batch":
        return nn.BatchNorm(use_running_average=not train, momentum=momentum,
                            axis_name=axis_name, **common)(x)
    if kind == "instance":
        return nn.InstanceNorm(**common)(x)
    if kind == "layer":
        return nn.LayerNorm(reduction_axes=tuple(range(1, x.ndim)), feature_axes=-1,
                            **common)(x)
    if kind == "group":
        return nn.GroupNorm(num_groups=math.gcd(GROUPS, x.shape[-1]), **common)(x)
    if kind == "none":
        return x
    raise ConfigError(f"norm: {kind!r} is not one of {', '.join(NORMS)}")


class SelfAttention(nn.Module):
    """SAGAN's self-attention (Zhang et al. 2019) over the H x W positions of NHWC features.

    Query and key project to channels / `reduction`, the value to channels / 2; the attended
    values are projected back and added through a learned scalar gate that starts at 0, so a
    fresh block is the identity. The attention weights are computed in float32.
    """

    reduction: int = 8
    spectral_norm: str = "none"
    sn_iterations: int = 1
    dtype: jnp.dtype | None = None

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        b, h, w, c = x.shape

        def project(features: int, name: str) -> Callable[[jax.Array], jax.Array]:
            layer = nn.Dense(features, use_bias=False, dtype=self.dtype,
                             kernel_init=nn.initializers.xavier_uniform(), name=name)
            return maybe_spectral(layer, "conv", self.spectral_norm, self.sn_iterations,
                                  train)

        inner = max(1, c // self.reduction)
        query = jnp.reshape(project(inner, "query")(x), (b, h * w, inner))
        key = jnp.reshape(project(inner, "key")(x), (b, h * w, inner))
        value = jnp.reshape(project(max(1, c // 2), "value")(x), (b, h * w, -1))
        logits = jnp.einsum("bqd,bkd->bqk", query, key).astype(jnp.float32)
        weights = jax.nn.softmax(logits, axis=-1).astype(value.dtype)
        attended = jnp.reshape(jnp.einsum("bqk,bkd->bqd", weights, value), (b, h, w, -1))
        out = project(c, "out")(attended)
        gate = self.param("gate", nn.initializers.zeros_init(), (), jnp.float32)
        return x + gate.astype(out.dtype) * out


class Player(nn.Module):
    """Layer helpers of the players that have `spectral_norm`, `sn_iterations` and `dtype`
    fields (the DCGAN and ResNet families)."""

    def spectral(self, layer: nn.Module, kind: str, train: bool) -> Callable[..., jax.Array]:
        """`layer`, spectrally normalised if this player's `spectral_norm` includes `kind`."""
        return maybe_spectral(layer, kind, self.spectral_norm, self.sn_iterations, train)

    def attend(self, x: jax.Array, train: bool) -> jax.Array:
        """The player's self-attention block (there is at most one, named "attention")."""
        return SelfAttention(spectral_norm=self.spectral_norm, sn_iterations=self.sn_iterations,
                             dtype=self.dtype, name="attention")(x, train)

def halvings_plan(height: int, width: int, smallest: int, lowest: int,
                  highest: int) -> tuple[tuple[int, int], int] | None:
    """((b_h, b_w), k) with H = b_h * 2**k and W = b_w * 2**k, k as large as both sides allow
    (each halved while even and its half at least `smallest`); None when k < 1 or a base lies
    outside [lowest, highest]."""
    def halvings(size: int) -> int:
        k = 0
        while size % 2 == 0 and size // 2 >= smallest:
            size, k = size // 2, k + 1
        return k

    k = min(halvings(height), halvings(width))
    bases = (height >> k, width >> k)
    if k < 1 or not all(lowest <= b <= highest for b in bases):
        return None
    return bases, k
