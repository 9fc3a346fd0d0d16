"""Schedules for the training scalars: a value that warms up linearly from 0, then moves from
its configured value to `end` along a shape, and holds (R3GAN ramps lr, Adam's beta2, gamma,
the augmentation p and the EMA half-life together this way).

    constant  the value throughout (after any warm-up)
    linear    start + (end - start) * f
    cosine    start + (end - start) * (1 - cos(pi f)) / 2

with f = (t - warmup) / steps clipped to [0, 1], and steps = the run's length minus the
warm-up when `steps` is 0. `t` counts train steps (G updates), or a player's own updates for
its optimizer's scalars.

`config.schedules.<name>` schedules the scalar `name` (see `SCHEDULED`); the learning rates keep
their own keys in `config.optim.{g,d}` (schedule, warmup_steps, lr_end, schedule_steps).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp

from gan_jax.config import ConfigError
from gan_jax.config.schema import SCHEDULED_SCALARS
from gan_jax.training import hyperparameters

SHAPES = ("constant", "linear", "cosine")

# Scalars a `config.schedules` entry can move, and the config key each starts from.
SCHEDULED = SCHEDULED_SCALARS


@dataclasses.dataclass(frozen=True)
class Ramp:
    """`value(t)`: warm-up from 0 over `warmup` steps, then `start` to `end` along `shape`
    over `steps` steps, then `end` (`start` throughout for "constant")."""

    start: float | jax.Array
    end: float = 0.0
    shape: str = "constant"
    steps: int = 1
    warmup: int = 0

    def __call__(self, t: Any) -> jax.Array:
        t = jnp.asarray(t, jnp.float32)
        if self.shape == "constant":
            value = jnp.full_like(t, self.start)
        else:
            f = jnp.clip((t - self.warmup) / max(self.steps, 1), 0.0, 1.0)
            if self.shape == "cosine":
                f = 0.5 * (1.0 - jnp.cos(math.pi * f))
            value = self.start + (self.end - self.start) * f
        if self.warmup:
            value = value * jnp.minimum(t / self.warmup, 1.0)
        return value


def is_off(cfg: Any) -> bool:
    """Whether a schedule entry leaves its scalar constant."""
    return cfg.shape == "constant" and not cfg.warmup_steps


def check(cfg: Any, key: str) -> None:
    if cfg.shape not in SHAPES:
        raise ConfigError(f"{key}.shape: must be one of {', '.join(SHAPES)}, got {cfg.shape!r}")
    for field in ("steps", "warmup_steps"):
        if cfg[field] < 0:
            raise ConfigError(f"{key}.{field}: must be >= 0, got {cfg[field]!r}")


def ramp(cfg: Any, start: float, total: int) -> Ramp | None:
    """The schedule of entry `cfg` for a scalar configured as `start` over a run of `total`
    steps, or None if it is constant."""
    if is_off(cfg):
        return None
    steps = cfg.steps or max(total - cfg.warmup_steps, 1)
    start = float(start) if isinstance(start, int | float) else start  # Or a traced value.
    return Ramp(start, float(cfg.end), cfg.shape, int(steps), int(cfg.warmup_steps))


def configured(config: Any, name: str, total: int | None = None,
               values: hyperparameters.Values | None = None) -> Ramp | None:
    """The schedule of `config.schedules.<name>` (None if constant), over the run's steps,
    starting from its scalar's value (per replica in a vectorised run: `values`)."""
    return ramp(config.schedules[name], hyperparameters.value(config, SCHEDULED[name], values),
                config.train.num_steps if total is None else total)
