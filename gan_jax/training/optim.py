"""Optax optimizers and learning-rate schedules built from `config.optim.{g,d}`."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import jax
import optax
from ml_collections import ConfigDict

from gan_jax.config.registry import ConfigError, Registry
from gan_jax.training import schedules

OPTIMIZERS: Registry[Callable[..., optax.GradientTransformation]] = Registry("optimizer")
SCHEDULES: Registry[Callable[..., optax.Schedule]] = Registry("schedule")


@OPTIMIZERS.register("adam")
def _adam(lr: optax.Schedule, cfg: Any, b2: Any = None) -> optax.GradientTransformation:
    if b2 is not None:  # A scheduled beta2: Adam with its hyperparameters in its state.
        return optax.inject_hyperparams(optax.adam)(lr, b1=cfg.b1, b2=b2, eps=cfg.eps)
    return optax.adam(lr, b1=cfg.b1, b2=cfg.b2, eps=cfg.eps)


@OPTIMIZERS.register("adamw")
def _adamw(lr: optax.Schedule, cfg: Any, b2: Any = None) -> optax.GradientTransformation:
    if b2 is not None:
        return optax.inject_hyperparams(optax.adamw)(lr, b1=cfg.b1, b2=b2, eps=cfg.eps,
                                                     weight_decay=cfg.weight_decay)
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
    cfg: Any, num_updates: int, section: str = "optim", b2_schedule: Any = None,
    values: dict[str, Any] | None = None,
) -> optax.GradientTransformation:
    """One player's optimizer; `num_updates` is how many updates it makes in the whole run.

    Schedules count that player's own updates, so with n_disc > 1 the discriminator's schedule
    spans n_disc times more updates than the generator's. Linear and cosine learning-rate
    schedules end at `lr_end` after `schedule_steps` updates past the warm-up (0: the rest of
    the run); `b2_schedule` (a `schedules.ramp`) moves Adam's beta2. `values` ({"lr": ...,
    "b1": ...}) are a vectorised run's traced per-replica scalars of this section.
    """
    if cfg.weight_decay and cfg.name != "adamw":
        raise ConfigError(
            f"{section}.weight_decay: only 'adamw' applies decoupled weight decay; "
            f"got name={cfg.name!r}"
        )
    make = OPTIMIZERS.get(cfg.name, key=f"{section}.name")
    make_schedule = SCHEDULES.get(cfg.schedule, key=f"{section}.schedule")
    ramped = bool(cfg.lr_end or cfg.schedule_steps)
    if ramped and cfg.schedule == "constant":
        raise ConfigError(f"{section}.lr_end, {section}.schedule_steps: a constant "
                          f"learning rate has no end; set {section}.schedule")
    if values:  # Traced scalars cannot live in a ConfigDict: read them from a plain copy.
        cfg = types.SimpleNamespace(**{**cfg.to_dict(), **values})
    if ramped:
        schedule = schedules.ramp(
            ConfigDict(dict(shape=cfg.schedule, end=cfg.lr_end, steps=cfg.schedule_steps,
                            warmup_steps=cfg.warmup_steps)), cfg.lr, num_updates)
    else:  # Decay to 0 over the run: optax's own schedules, as runs have always used.
        schedule = make_schedule(cfg.lr, cfg.warmup_steps, num_updates)
    if b2_schedule is not None:
        if cfg.name not in ("adam", "adamw"):
            raise ConfigError(f"schedules.{section.rsplit('.', 1)[-1]}_b2: schedules Adam's "
                              f"beta2, but {section}.name is {cfg.name!r}")
        tx = make(schedule, cfg, b2=b2_schedule)
    else:
        tx = make(schedule, cfg)
    if cfg.grad_clip_norm:
        tx = optax.chain(optax.clip_by_global_norm(cfg.grad_clip_norm), tx)
    return optax.flatten(tx) if cfg.flatten else tx


def frozen_names(params: Any, num_blocks: int) -> list[str]:
    """The first `num_blocks` top-level parameter modules of `params`, in the order the model
    created them (its first layers, for the sequential discriminators here)."""
    names = list(params)
    if num_blocks > len(names):
        raise ConfigError(f"train.freeze_d: {num_blocks} blocks, but the discriminator has "
                          f"{len(names)} parameter modules ({', '.join(names)})")
    return names[:num_blocks]


def frozen(tx: optax.GradientTransformation,
           num_blocks: int) -> optax.GradientTransformation:
    """FreezeD (Mo et al. 2020): `tx` for all but D's first `num_blocks` parameter modules
    (see `frozen_names`), whose updates are zero; `tx` itself for 0."""
    if not num_blocks:
        return tx

    def labels(params: Any) -> Any:
        names = set(frozen_names(params, num_blocks))
        return {name: jax.tree.map(lambda _, n=name: "frozen" if n in names else "trained",
                                   subtree) for name, subtree in params.items()}

    return optax.multi_transform({"trained": tx, "frozen": optax.set_to_zero()}, labels)
