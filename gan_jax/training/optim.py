"""Optax optimizers and learning-rate schedules built from `config.optim.{g,d}`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import optax

from gan_jax.config.registry import ConfigError, Registry

OPTIMIZERS: Registry[Callable[..., optax.GradientTransformation]] = Registry("optimizer")
SCHEDULES: Registry[Callable[..., optax.Schedule]] = Registry("schedule")


@OPTIMIZERS.register("adam")
def _adam(lr: optax.Schedule, cfg: Any) -> optax.GradientTransformation:
    return optax.adam(lr, b1=cfg.b1, b2=cfg.b2, eps=cfg.eps)


@OPTIMIZERS.register("adamw")
def _adamw(lr: optax.Schedule, cfg: Any) -> optax.GradientTransformation:
    return optax.adamw(lr, b1=cfg.b1, b2=cfg.b2, eps=cfg.eps, weight_decay=cfg.weight_decay)


@OPTIMIZERS.register("sgd")
def _sgd(lr: optax.Schedule, cfg: Any) -> optax.GradientTransformation:
    return optax.sgd(lr, momentum=cfg.momentum or None)


@OPTIMIZERS.register("rmsprop")
def _rmsprop(lr: optax.Schedule, cfg: Any) -> optax.GradientTransformation:
    return optax.rmsprop(lr, decay=cfg.b2, eps=cfg.eps, momentum=cfg.momentum or None)


@SCHEDULES.register("constant")
def _constant(lr: float, warmup: int, total: int) -> optax.Schedule:
    return optax.linear_schedule(0.0, lr, warmup) if warmup else optax.constant_schedule(lr)


@SCHEDULES.register("linear")
def _linear(lr: float, warmup: int, total: int) -> optax.Schedule:
    decay = optax.linear_schedule(lr, 0.0, max(total - warmup, 1))
    if not warmup:
        return decay
    return optax.join_schedules([optax.linear_schedule(0.0, lr, warmup), decay], [warmup])


@SCHEDULES.register("cosine")
def _cosine(lr: float, warmup: int, total: int) -> optax.Schedule:
    return optax.warmup_cosine_decay_schedule(0.0, lr, warmup, max(total, warmup + 1))


def build_optimizer(
    cfg: Any, num_updates: int, section: str = "optim"
) -> optax.GradientTransformation:
    """One player's optimizer; `num_updates` is how many updates it makes in the whole run.

    Schedules count that player's own updates, so with n_disc > 1 the discriminator's schedule
    spans n_disc times more updates than the generator's.
    """
    if cfg.weight_decay and cfg.name != "adamw":
        raise ConfigError(
            f"{section}.weight_decay: only 'adamw' applies decoupled weight decay; "
            f"got name={cfg.name!r}"
        )
    make = OPTIMIZERS.get(cfg.name, key=f"{section}.name")
    make_schedule = SCHEDULES.get(cfg.schedule, key=f"{section}.schedule")
    schedule = make_schedule(cfg.lr, cfg.warmup_steps, num_updates)
    tx = make(schedule, cfg)
    if cfg.grad_clip_norm:
        tx = optax.chain(optax.clip_by_global_norm(cfg.grad_clip_norm), tx)
    return optax.flatten(tx) if cfg.flatten else tx
