"""Projection: the latent whose image best matches a target (StyleGAN2's projector, for any G).

Every target gets its own latent, optimised with Adam from the latent space's mean:
- `w` (style-based G): one w for every layer; `w+`: one w per layer; `z`: the generator's
  input, for every family;
- the loss is `pixel_weight` * the mean squared pixel difference plus `feature_weight` * the
  squared distance of unit-normalised features of an extractor, summed over the targets,
  whose latents are independent (Adam is elementwise), so all targets run as one program;
- the learning rate ramps up over the first `lr_rampup` of the steps and down, as a cosine,
  over the last `lr_rampdown`; Gaussian noise of `initial_noise` * the latents' spread,
  fading quadratically to 0 at `noise_ramp` of the steps, is added to the latent;
- a style-based G's per-layer noise maps are optimised too, under StyleGAN2's
  regulariser (the squared autocorrelation at shift 1, over a pyramid down to 8 x 8, times
  `noise_weight`), and renormalised to zero mean and unit variance after every step.

The mean and spread of the space are measured on `avg_samples` latents drawn from
the key (mapped to W for w and w+, for each target's label when conditional).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

from gan_jax.config.registry import ConfigError

SPACES = ("w", "w+", "z")
# Features of images in [-1, 1]: [n, H, W, C] -> [n, d].
FeatureFn = Callable[[jax.Array], jax.Array]


@dataclasses.dataclass(frozen=True)
class ProjectionSettings:
    """StyleGAN2's projector defaults, with the distance split into pixels and features."""

    steps: int = 1000
    space: str = "w"
    initial_lr: float = 0.1
    lr_rampdown: float = 0.25
    lr_rampup: float = 0.05
    initial_noise: float = 0.05
    noise_ramp: float = 0.75
    noise_weight: float = 1e5
    pixel_weight: float = 1.0
    feature_weight: float = 1.0
    avg_samples: int = 10_000

    def check(self, style_based: bool) -> None:
        if self.space not in SPACES:
            raise ConfigError(f"--space: {self.space!r} is not one of {', '.join(SPACES)}")
        if self.space != "z" and not style_based:
            raise ConfigError(f"--space: {self.space!r} needs a style-based generator; this "
                              "run's generator takes z only (use --space z)")
        if self.steps < 1 or self.avg_samples < 2:
            raise ConfigError("--steps must be >= 1 and --avg-samples >= 2")
        if min(self.pixel_weight, self.feature_weight, self.noise_weight) < 0 or not (
                self.pixel_weight or self.feature_weight):
            raise ConfigError("--pixel-weight and --feature-weight: >= 0, not both 0")


def learning_rate(step: jax.Array, settings: ProjectionSettings) -> jax.Array:
    """StyleGAN2's ramp: up linearly over the first lr_rampup, down as a half cosine over
    the last lr_rampdown of the steps."""
    t = step / settings.steps
    down = jnp.minimum(1.0, (1.0 - t) / settings.lr_rampdown)
    ramp = (0.5 - 0.5 * jnp.cos(down * math.pi)) * jnp.minimum(1.0, t / settings.lr_rampup)
    return settings.initial_lr * ramp


def latent_noise_scale(step: jax.Array, settings: ProjectionSettings) -> jax.Array:
    """The latent noise's scale, relative to the space's spread, at `step`."""
    t = step / settings.steps
    return settings.initial_noise * jnp.maximum(0.0, 1.0 - t / settings.noise_ramp) ** 2


def noise_regulariser(noise: list[jax.Array]) -> jax.Array:
    """Per example [n]: the sum, over noise maps [n, H, W, 1] and their 2x average-pooled
    pyramid down to 8 x 8, of the squared mean products with the map shifted by one pixel
    along each axis (0 on average for white noise)."""
    total = 0.0
    for v in noise:
        while True:
            for axis in (1, 2):
                total += jnp.square(jnp.mean(v * jnp.roll(v, 1, axis), axis=(1, 2, 3)))
            if v.shape[1] <= 8:
                break
            v = v.reshape(v.shape[0], v.shape[1] // 2, 2, v.shape[2] // 2, 2, 1).mean((2, 4))
    return total


def _normalised(noise: list[jax.Array]) -> list[jax.Array]:
    """Each example's noise map at zero mean and unit variance."""
    return [(v - v.mean((1, 2, 3), keepdims=True)) * jax.lax.rsqrt(
        v.var((1, 2, 3), keepdims=True) + 1e-8) for v in noise]


def distances(images: jax.Array, targets: jax.Array, features: FeatureFn | None,
              target_features: jax.Array | None) -> tuple[jax.Array, jax.Array]:
    """Per example: (mean squared pixel difference, squared distance of unit-normalised
    features; 0 without an extractor)."""
    pixel = jnp.mean(jnp.square(images - targets), axis=(1, 2, 3))
    if features is None:
        return pixel, jnp.zeros_like(pixel)
    return pixel, jnp.sum(jnp.square(_unit(features(images)) - target_features), axis=-1)


def _unit(f: jax.Array) -> jax.Array:
    return f * jax.lax.rsqrt(jnp.sum(jnp.square(f), axis=-1, keepdims=True) + 1e-10)


@dataclasses.dataclass(frozen=True)
class Space:
    """How a latent of one space becomes an image: `image(latent, noise)`, and the latents'
    mean (`start`, [n, ...]) and spread (a scalar per target, [n])."""

    image: Callable[[jax.Array, list[jax.Array] | None], jax.Array]
    start: jax.Array
    spread: jax.Array
    noise_shapes: list[tuple[int, int, int]]


def project(space: Space, targets: jax.Array, settings: ProjectionSettings, key: jax.Array,
            features: FeatureFn | None = None) -> dict[str, jax.Array]:
    """Projects `targets` (float32 [n, H, W, C] in [-1, 1]) into `space`: {"latents",
    "noise" (a list; empty without noise inputs), "images", "pixel", "feature" (per target,
    at the end), "loss" (the summed loss per step, [steps])}."""
    n = targets.shape[0]
    use_features = features is not None and settings.feature_weight > 0
    features = features if use_features else None
    target_features = _unit(features(targets)) if use_features else None
    noise_key, step_key = jax.random.split(key)
    noise_keys = jax.random.split(noise_key, max(len(space.noise_shapes), 1))
    params = {"latent": space.start,
              "noise": [jax.random.normal(k, (n, *s)) for k, s in zip(
                  noise_keys, space.noise_shapes, strict=False)]}
    tx = optax.adam(lambda count: learning_rate(count, settings), b1=0.9, b2=0.999, eps=1e-8)
    spread = space.spread.reshape((n,) + (1,) * (space.start.ndim - 1))

    def loss_fn(params, step):
        jitter = jax.random.normal(jax.random.fold_in(step_key, step), space.start.shape)
        latent = params["latent"] + jitter * spread * latent_noise_scale(step, settings)
        images = space.image(latent, params["noise"] or None)
        pixel, feature = distances(images, targets, features, target_features)
        total = settings.pixel_weight * pixel + settings.feature_weight * feature
        if params["noise"]:
            total = total + settings.noise_weight * noise_regulariser(params["noise"])
        return jnp.sum(total)

    def one_step(carry, step):
        params, opt_state = carry
        loss, grads = jax.value_and_grad(loss_fn)(params, step)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        params = {**params, "noise": _normalised(params["noise"])}
        return (params, opt_state), loss

    @jax.jit
    def finish(params):
        images = space.image(params["latent"], params["noise"] or None)
        pixel, feature = distances(images, targets, features, target_features)
        return {"latents": params["latent"], "noise": params["noise"], "images": images,
                "pixel": pixel, "feature": feature}

    # One compiled step called `steps` times, not a scan: XLA:CPU runs convolution gradients
    # inside a loop body far more slowly than in straight-line code.
    step = jax.jit(one_step)
    carry, losses = (params, tx.init(params)), []
    for i in range(settings.steps):
        carry, loss = step(carry, jnp.int32(i))
        losses.append(loss)
    return {**finish(carry[0]), "loss": jnp.stack(losses)}


def latent_statistics(samples: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(the mean of [m, d] latent samples, their spread sqrt(E ||x - mean||^2))."""
    mean = jnp.mean(samples, axis=0)
    return mean, jnp.sqrt(jnp.mean(jnp.sum(jnp.square(samples - mean), axis=-1)))


def build_space(generator: Any, variables: Any, kind: str, num: int, key: jax.Array,
                sample_z: Callable[[jax.Array, int], jax.Array],
                labels: jax.Array | None = None, avg_samples: int = 10_000) -> Space:
    """The `kind` space (SPACES) of `generator` with `variables`, for `num` targets (of
    `labels`, when conditional); `sample_z(key, m)` draws m of its latents."""
    z = sample_z(key, avg_samples)
    if kind == "z":
        mean, spread = latent_statistics(z)

        def image(latent, noise):
            return generator.apply(variables, latent, labels, train=False)

        return Space(image, jnp.broadcast_to(mean, (num, mean.shape[-1])),
                     jnp.full((num,), spread), [])
    from gan_jax.models import stylegan

    shape = tuple(generator.output_shape)

    def statistics(label):
        """(mean, spread) of w for one label (None: unconditional)."""
        given = None if label is None else jnp.full((avg_samples,), label, jnp.int32)
        ws = generator.apply(variables, z, given, method=generator.map)[:, 0]
        return latent_statistics(ws)

    if labels is None:
        mean, spread = statistics(None)
        means, spreads = jnp.broadcast_to(mean, (num, mean.shape[-1])), jnp.full((num,), spread)
    else:
        per_label = {int(c): statistics(int(c)) for c in jax.device_get(jnp.unique(labels))}
        chosen = [per_label[int(c)] for c in jax.device_get(labels)]
        means = jnp.stack([m for m, _ in chosen])
        spreads = jnp.stack([s for _, s in chosen])
    layers = stylegan.num_ws(shape)
    start = means[:, None, :]
    if kind == "w+":
        start = jnp.repeat(start, layers, axis=1)

    def image(latent, noise):
        ws = jnp.broadcast_to(latent, (latent.shape[0], layers, latent.shape[-1]))
        return generator.apply(variables, ws, None, noise, method=generator.synthesize)

    return Space(image, start, spreads, stylegan.noise_shapes(shape))
