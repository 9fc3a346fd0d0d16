"""Samples and latent-space pictures from a run's latest checkpoint.

Three modes, all from latents drawn from `seed` (not the run's seed, so several pictures of
one run can be made):
    random       `num` samples.
    interpolate  `num` rows, each `steps` latents from one random latent to another
                 (linear or spherical).
    traverse     for each of `num` random base latents, one row per dimension in `dims`,
                 sweeping that dimension over [-span, span] in `steps` values.

A class-conditional run draws every sample for a class: `label` for all of them; else, in
random mode, classes 0, 1, ..., K-1, 0, ... in turn, or with `per_class` a grid with one row
per class (the same `per_class` latents in every row); interpolation and traversal rows hold
one class each (row r: class r mod K), so only the latent moves along a row.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import grids, rundir
from gan_jax.config import ConfigError
from gan_jax.experiment import PLOT_STREAM, Experiment
from gan_jax.models.latent import interpolate, traverse
from gan_jax.state import GANState

MODES = ("random", "interpolate", "traverse")


def load_run(workdir: str) -> tuple[Experiment, GANState]:
    """The experiment of `workdir` and its latest checkpointed state."""
    return rundir.load_run(workdir)


def check_request(experiment: Experiment, mode: str, out: str, dims: tuple[int, ...],
                  label: int | None = None, per_class: int | None = None) -> None:
    """Raises ConfigError, before anything is generated, for what this run cannot give."""
    if experiment.translation:
        raise ConfigError("--workdir: this run translates images (model.condition='image'); "
                          "use gan-translate --workdir DIR --input IMAGES --out OUT")
    if not out.endswith((".png", ".npz")):
        raise ConfigError(f"--out: {out!r} must end in .png or .npz")
    if label is not None and per_class is not None:
        raise ConfigError("--label and --per-class: give one (a class, or a row per class)")
    if label is not None:
        experiment.check_labels([label], "--label")
    if per_class is not None:
        if not experiment.num_classes:
            raise ConfigError("--per-class: this run is unconditional "
                              "(model.condition='none'); it has no classes to draw")
        if mode != "random":
            raise ConfigError(f"--per-class: draws random samples; --mode {mode} rows hold "
                              "one class each (choose it with --label)")
    latent_dim = experiment.config.model.latent_dim
    if mode == "traverse":
        bad = [d for d in dims if not 0 <= d < latent_dim]
        if bad:
            raise ConfigError(f"--dims: {','.join(map(str, bad))} out of range; this run's "
                              f"latents have {latent_dim} dimensions (0..{latent_dim - 1})")
    if experiment.dataset.kind != "images" and out.endswith(".png") and mode != "random":
        raise ConfigError(f"--mode {mode}: a 2D-point run draws only random samples as a "
                          "PNG (a scatter plot over the true modes); write an .npz for "
                          f"{mode} paths")


def make_latents(experiment: Experiment, mode: str, num: int, seed: int = 0, steps: int = 8,
                 method: str = "slerp", dims: tuple[int, ...] = (0, 1, 2, 3),
                 span: float = 3.0, label: int | None = None,
                 per_class: int | None = None) -> tuple[jax.Array, np.ndarray | None, int]:
    """The latents of a picture, their class labels (None when unconditional) and its number
    of columns."""
    key = jax.random.PRNGKey(seed)
    classes = experiment.num_classes

    def row_labels(rows: int, per_row: int) -> np.ndarray | None:
        """Row r holds class `label`, else r mod K."""
        if not classes:
            return None
        row_class = np.full(rows, label) if label is not None else np.arange(rows) % classes
        return np.repeat(row_class, per_row).astype(np.int32)

    if mode == "random":
        if per_class is not None:
            z, labels = experiment.class_grid(key, per_class)
            return z, labels, per_class
        z = experiment.latents(key, num)
        labels = (np.full(num, label, np.int32) if label is not None
                  else experiment.balanced_labels(num))
        return z, labels, int(np.ceil(np.sqrt(num)))
    if mode == "interpolate":
        ends = experiment.latents(key, 2 * num)
        z = jnp.concatenate([interpolate(ends[2 * i], ends[2 * i + 1], steps, method)
                             for i in range(num)])
        return z, row_labels(num, steps), steps
    if mode == "traverse":
        base = experiment.latents(key, num)
        z = traverse(base, tuple(dims), jnp.linspace(-span, span, steps))
        # One class per base latent, so all of its rows (one per dimension) share it.
        return (jnp.reshape(z, (-1, base.shape[-1])), row_labels(num, len(dims) * steps),
                steps)
    raise ValueError(f"mode: {mode!r} is not one of {MODES}")


def write_samples(experiment: Experiment, state: GANState, out: str, z: jax.Array,
                  columns: int, generator: str = "ema",
                  labels: np.ndarray | None = None) -> dict[str, Any]:
    """Generates from `z` (and class `labels`, for a conditional run) with the raw or EMA
    generator (eval mode) and writes `out`: a PNG grid, or an `.npz` with `samples` (float32
    in the data's range), `latents` and, when conditional, `labels`."""
    if generator not in ("raw", "ema"):
        raise ValueError(f"generator: {generator!r} is not 'raw' or 'ema'")
    params = state.ema_g_params if generator == "ema" else state.g_params
    samples = experiment.generate(params, state.g_state, z, labels)
    if out.endswith(".npz"):
        tmp = out + ".tmp.npz"
        extra = {} if labels is None else {"labels": np.asarray(labels)}
        np.savez(tmp, samples=samples, latents=np.asarray(z), step=int(state.step), **extra)
        os.replace(tmp, out)
    elif out.endswith(".png") and experiment.dataset.kind != "images":
        from gan_jax import plots

        dataset = experiment.dataset
        real = np.asarray(dataset.draw(jax.random.fold_in(experiment.stream_key(PLOT_STREAM),
                                                          1), samples.shape[0]))
        fig = plots.scatter_figure(real, {f"{generator} generator": samples}, dataset.centres,
                                   f"{experiment.config.data.name}, step {int(state.step)}",
                                   labels)
        plots.save_figure(fig, out)
    elif out.endswith(".png"):
        grids.save_png(grids.make_grid(samples, columns), out)
    else:
        raise ValueError(f"out: {out!r} must end in .png or .npz")
    return {"out": out, "step": int(state.step), "num": int(samples.shape[0]),
            "generator": generator}
