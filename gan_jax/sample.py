"""Samples and latent-space pictures from a run's latest checkpoint.

Three modes, all from latents drawn from `seed` (not the run's seed, so several pictures of
one run can be made):
    random       `num` samples.
    interpolate  `num` rows, each `steps` latents from one random latent to another
                 (linear or spherical).
    traverse     for each of `num` random base latents, one row per dimension in `dims`,
                 sweeping that dimension over [-span, span] in `steps` values.
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


def check_request(experiment: Experiment, mode: str, out: str, dims: tuple[int, ...]) -> None:
    """Raises ConfigError, before anything is generated, for what this run cannot give."""
    if not out.endswith((".png", ".npz")):
        raise ConfigError(f"--out: {out!r} must end in .png or .npz")
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
                 span: float = 3.0) -> tuple[jax.Array, int]:
    """The latents of a picture and its number of columns."""
    key = jax.random.PRNGKey(seed)
    if mode == "random":
        z = experiment.latents(key, num)
        return z, int(np.ceil(np.sqrt(num)))
    if mode == "interpolate":
        ends = experiment.latents(key, 2 * num)
        z = jnp.concatenate([interpolate(ends[2 * i], ends[2 * i + 1], steps, method)
                             for i in range(num)])
        return z, steps
    if mode == "traverse":
        base = experiment.latents(key, num)
        z = traverse(base, tuple(dims), jnp.linspace(-span, span, steps))
        return jnp.reshape(z, (-1, base.shape[-1])), steps
    raise ValueError(f"mode: {mode!r} is not one of {MODES}")


def write_samples(experiment: Experiment, state: GANState, out: str, z: jax.Array,
                  columns: int, generator: str = "ema") -> dict[str, Any]:
    """Generates from `z` with the raw or EMA generator (eval mode) and writes `out`: a PNG
    grid, or an `.npz` with `samples` (float32 in the data's range) and `latents`."""
    if generator not in ("raw", "ema"):
        raise ValueError(f"generator: {generator!r} is not 'raw' or 'ema'")
    params = state.ema_g_params if generator == "ema" else state.g_params
    samples = experiment.generate(params, state.g_state, z)
    if out.endswith(".npz"):
        tmp = out + ".tmp.npz"
        np.savez(tmp, samples=samples, latents=np.asarray(z), step=int(state.step))
        os.replace(tmp, out)
    elif out.endswith(".png") and experiment.dataset.kind != "images":
        from gan_jax import plots

        dataset = experiment.dataset
        real = np.asarray(dataset.draw(jax.random.fold_in(experiment.stream_key(PLOT_STREAM),
                                                          1), samples.shape[0]))
        fig = plots.scatter_figure(real, {f"{generator} generator": samples}, dataset.centres,
                                   f"{experiment.config.data.name}, step {int(state.step)}")
        plots.save_figure(fig, out)
    elif out.endswith(".png"):
        grids.save_png(grids.make_grid(samples, columns), out)
    else:
        raise ValueError(f"out: {out!r} must end in .png or .npz")
    return {"out": out, "step": int(state.step), "num": int(samples.shape[0]),
            "generator": generator}
