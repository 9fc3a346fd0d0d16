"""Samples and latent-space pictures from a run's latest checkpoint.

Three modes, all from latents drawn from `seed` (not the run's seed, so several pictures of
one run can be made):
    random       `num` samples.
    interpolate  `num` rows, each `steps` latents from one random latent to another
                 (linear or spherical).
    traverse     for each of `num` random base latents, one row per dimension in `dims`,
                 sweeping that dimension over [-span, span] in `steps` values.

A style-based generator (model.generator.name="stylegan") adds:
    truncation   `num` rows, one latent each, over the truncation values `psis` (psi = 0 is
                 the average image);
    mixing       StyleGAN's style-mixing grid: a top row of `steps` source-B images, then
                 for the coarse, middle and fine resolutions `num` rows, each a source-A
                 image followed by A with that range's styles taken from each B;
    noise        `num` rows of one w with `steps` noise draws each, and the per-pixel
                 standard deviation over them (white: most varied);
and `space="w"` interpolates linearly in W instead of Z, and `truncation` applies to random
samples and interpolations. Random samples draw per-example noise from `seed`; the other
pictures use the generator's fixed noise, so only what the row varies changes.

A class-conditional run draws every sample for a class: `label` for all of them; else, in
random mode, classes 0, 1, ..., K-1, 0, ... in turn, or with `per_class` a grid with one row
per class (the same `per_class` latents in every row); interpolation and traversal rows hold
one class each (row r: class r mod K), so only the latent moves along a row.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.config import ConfigError
from gan_jax.eval.mixtures import high_quality_counts
from gan_jax.models import stylegan
from gan_jax.models.latent import interpolate, traverse
from gan_jax.runs import grids, rundir
from gan_jax.training.experiment import PLOT_STREAM, Experiment
from gan_jax.training.state import GANState, ema_initial_weight

STYLE_MODES = ("truncation", "mixing", "noise")
MODES = ("random", "interpolate", "traverse", *STYLE_MODES)
SPACES = ("z", "w")
PSI_RANGE = (-1.0, 1.0)
# Warn when more of the EMA generator than this is still its initial weights.
EMA_WARN_INITIAL_WEIGHT = 0.1


def load_run(workdir: str) -> tuple[Experiment, GANState]:
    """The experiment of `workdir` and its latest checkpointed state."""
    return rundir.load_run(workdir)


def ema_warning(experiment: Experiment, state: GANState, generator: str = "ema") -> str | None:
    """A warning when the EMA generator has averaged too few steps to show what G learned."""
    if generator != "ema":
        return None
    train = experiment.config.train
    step = int(state.step)
    initial = ema_initial_weight(step, train.ema_decay, train.ema_rampup, train.ema_start)
    if initial <= EMA_WARN_INITIAL_WEIGHT:
        return None
    return (f"gan_jax: warning: after {step:,} steps with train.ema_decay={train.ema_decay:g}, "
            f"{initial:.0%} of the EMA generator is still its initial weights, so its samples "
            "show little of what G learned; --generator raw draws the trained weights, and "
            "--config.train.ema_rampup=0.05 makes a new run's EMA follow G from the start")


def is_style_based(experiment: Experiment) -> bool:
    return hasattr(type(experiment.generator), "synthesize")


def check_request(experiment: Experiment, mode: str, out: str, dims: tuple[int, ...],
                  label: int | None = None, per_class: int | None = None,
                  truncation: float = 1.0, space: str = "z",
                  psis: tuple[float, ...] = (), z_truncation: float = 0.0) -> None:
    """Raises ConfigError, before anything is generated, for what this run cannot give."""
    if z_truncation < 0:
        raise ConfigError(f"--z-truncation: a bound on |z| is > 0 (0: none), got "
                          f"{z_truncation:g}")
    if z_truncation and experiment.config.model.latent_dist != "normal":
        raise ConfigError(f"--z-truncation: truncates a normal latent; this run's is "
                          f"{experiment.config.model.latent_dist!r}")
    if z_truncation and is_style_based(experiment):
        raise ConfigError("--z-truncation: a style-based run truncates in W; use "
                          "--truncation PSI")
    style_request = [what for what, asked in (
        (f"--mode {mode}", mode in STYLE_MODES), ("--truncation", truncation != 1.0),
        ("--space w", space == "w")) if asked]
    if style_request and not is_style_based(experiment):
        raise ConfigError(f"{style_request[0]}: needs a style-based generator "
                          "(model.generator.name='stylegan'); this run's is "
                          f"{experiment.config.model.generator.name!r}")
    if space not in SPACES:
        raise ConfigError(f"--space: {space!r} is not one of {', '.join(SPACES)}")
    if space == "w" and mode != "interpolate":
        raise ConfigError(f"--space w: interpolates in W; --mode {mode} does not interpolate")
    for flag, values in (("--truncation", (truncation,)), ("--psi", psis)):
        bad = [v for v in values if not PSI_RANGE[0] <= v <= PSI_RANGE[1]]
        if bad:
            raise ConfigError(f"{flag}: psi {bad[0]} is out of range [{PSI_RANGE[0]:g}, "
                              f"{PSI_RANGE[1]:g}] (1: no truncation, 0: the average w)")
    if mode == "truncation" and not psis:
        raise ConfigError("--psi: give the truncation values of the grid's columns")
    if mode in STYLE_MODES and experiment.num_classes:
        raise ConfigError(f"--mode {mode}: not available for class-conditional runs")
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
                 per_class: int | None = None,
                 z_truncation: float = 0.0) -> tuple[jax.Array, np.ndarray | None, int]:
    """The latents of a picture, their class labels (None when unconditional) and its number
    of columns; `z_truncation` > 0 draws them from the normal truncated to that bound."""
    key = jax.random.PRNGKey(seed)
    classes = experiment.num_classes

    def draw(key: jax.Array, num: int) -> jax.Array:
        return experiment.latents(key, num, z_truncation)

    def row_labels(rows: int, per_row: int) -> np.ndarray | None:
        """Row r holds class `label`, else r mod K."""
        if not classes:
            return None
        row_class = np.full(rows, label) if label is not None else np.arange(rows) % classes
        return np.repeat(row_class, per_row).astype(np.int32)

    if mode == "random":
        if per_class is not None:
            z, labels = experiment.class_grid(key, per_class, truncation=z_truncation)
            return z, labels, per_class
        z = draw(key, num)
        labels = (np.full(num, label, np.int32) if label is not None
                  else experiment.balanced_labels(num))
        return z, labels, int(np.ceil(np.sqrt(num)))
    if mode == "interpolate":
        ends = draw(key, 2 * num)
        z = jnp.concatenate([interpolate(ends[2 * i], ends[2 * i + 1], steps, method)
                             for i in range(num)])
        return z, row_labels(num, steps), steps
    if mode == "traverse":
        base = draw(key, num)
        z = traverse(base, tuple(dims), jnp.linspace(-span, span, steps))
        # One class per base latent, so all of its rows (one per dimension) share it.
        return (jnp.reshape(z, (-1, base.shape[-1])), row_labels(num, len(dims) * steps),
                steps)
    raise ValueError(f"mode: {mode!r} is not one of {MODES}")


def random_noise_keys(experiment: Experiment, seed: int, num: int) -> jax.Array | None:
    """Per-example keys of random samples drawn with `seed`, for a generator that draws
    per-example noise (else None)."""
    return experiment.example_keys(jax.random.fold_in(jax.random.PRNGKey(seed), 1), num)


def write_samples(experiment: Experiment, state: GANState, out: str, z: jax.Array,
                  columns: int, generator: str = "ema",
                  labels: np.ndarray | None = None, keys: jax.Array | None = None,
                  truncation: float = 1.0) -> dict[str, Any]:
    """Generates from `z` (and class `labels`, for a conditional run; per-example `keys` and
    `truncation` for a style-based one) with the raw or EMA generator (eval mode) and writes
    `out`: a PNG grid, or an `.npz` with `samples` (float32 in the data's range), `latents`
    and, when conditional, `labels`."""
    if generator not in ("raw", "ema"):
        raise ValueError(f"generator: {generator!r} is not 'raw' or 'ema'")
    params, g_state = experiment.generators(state)[generator]
    samples = experiment.generate(params, g_state, z, labels, keys, truncation)
    if out.endswith(".npz"):
        tmp = out + ".tmp.npz"
        extra = {} if labels is None else {"labels": np.asarray(labels)}
        np.savez(tmp, samples=samples, latents=np.asarray(z), step=int(state.step), **extra)
        os.replace(tmp, out)
    elif out.endswith(".png") and experiment.dataset.kind != "images":
        from gan_jax.runs import plots
        dataset = experiment.dataset
        real = np.asarray(dataset.draw(jax.random.fold_in(experiment.stream_key(PLOT_STREAM),
                                                          1), samples.shape[0]))
        name = f"{generator} generator"
        counts = {name: high_quality_counts(samples, dataset.centres, dataset.std)}
        fig = plots.scatter_figure(real, {name: samples}, dataset.centres,
                                   f"{experiment.config.data.name}, step {int(state.step)}",
                                   labels, counts)
        plots.save_figure(fig, out)
    elif out.endswith(".png"):
        grids.save_png(grids.make_grid(samples, columns), out)
    else:
        raise ValueError(f"out: {out!r} must end in .png or .npz")
    return {"out": out, "step": int(state.step), "num": int(samples.shape[0]),
            "generator": generator}


@functools.partial(jax.jit, static_argnums=0)
def _map(generator: Any, params: Any, g_state: Any, z: jax.Array,
         truncation: jax.Array) -> jax.Array:
    return generator.apply({"params": params, **g_state}, z, truncation=truncation,
                           method=generator.map)


@functools.partial(jax.jit, static_argnums=0)
def _synthesize(generator: Any, params: Any, g_state: Any, ws: jax.Array,
                keys: jax.Array | None) -> jax.Array:
    return generator.apply({"params": params, **g_state}, ws, keys,
                           method=generator.synthesize)


def style_ranges(shape: tuple[int, ...]) -> list[tuple[str, int, int]]:
    """The (name, first, end) ws indices of the coarse (short side up to 8), middle (16-32)
    and fine (64+) resolutions of a synthesis network making `shape` images; at small sizes
    the highest resolutions move down a range, so that "fine" is never empty. Resolution i
    (the base is 0) reads ws[2i-1], ws[2i] (ws[0] at the base); the final toRGB's w belongs
    to the highest resolution."""
    sides = [min(h, w) for h, w in stylegan.levels(shape)]
    groups = {"coarse": [i for i, r in enumerate(sides) if r <= 8],
              "middle": [i for i, r in enumerate(sides) if 8 < r <= 32],
              "fine": [i for i, r in enumerate(sides) if r > 32]}
    if not groups["fine"]:
        donor = groups["middle"] or groups["coarse"]
        groups["fine"].append(donor.pop())
    if not groups["middle"] and len(groups["coarse"]) > 1:
        groups["middle"].append(groups["coarse"].pop())

    def first(level: int) -> int:
        return max(0, 2 * level - 1)

    num_ws, ranges = stylegan.num_ws(shape), []
    for name in ("coarse", "middle", "fine"):
        if groups[name]:
            last = groups[name][-1]
            end = num_ws if last == len(sides) - 1 else first(last + 1)
            ranges.append((name, first(groups[name][0]), end))
    return ranges


def style_picture(experiment: Experiment, state: GANState, mode: str, num: int, seed: int = 0,
                  steps: int = 8, psis: tuple[float, ...] = (), truncation: float = 1.0,
                  generator: str = "ema") -> tuple[np.ndarray, int]:
    """A style-based generator's picture (see the module docstring): its images in [-1, 1]
    and its number of columns. `mode` is one of STYLE_MODES, or "interpolate" in W."""
    g = experiment.generator
    params, g_state = experiment.generators(state)[generator]

    def map_to_w(z: jax.Array, psi: float = truncation) -> jax.Array:
        return _map(g, params, g_state, z, jnp.float32(psi))

    def synthesize(ws: jax.Array, keys: jax.Array | None = None) -> np.ndarray:
        return np.asarray(_synthesize(g, params, g_state, ws, keys))

    key = jax.random.PRNGKey(seed)
    if mode == "truncation":
        z = experiment.latents(key, num)
        images = np.stack([synthesize(map_to_w(z, psi)) for psi in psis], axis=1)
        return images.reshape(-1, *images.shape[2:]), len(psis)
    if mode == "interpolate":  # In W: linear, as StyleGAN interpolates there.
        ends = map_to_w(experiment.latents(key, 2 * num))
        t = jnp.linspace(0.0, 1.0, steps)[None, :, None, None]
        ws = (1.0 - t) * ends[0::2, None] + t * ends[1::2, None]
        return synthesize(jnp.reshape(ws, (-1, *ws.shape[2:]))), steps
    if mode == "mixing":
        ws_a = map_to_w(experiment.latents(jax.random.fold_in(key, 0), num))
        ws_b = map_to_w(experiment.latents(jax.random.fold_in(key, 1), steps))
        images_a, images_b = synthesize(ws_a), synthesize(ws_b)
        rows = [np.concatenate([np.zeros_like(images_b[:1]), images_b])]
        for _, first, end in style_ranges(tuple(experiment.dataset.example_shape)):
            mixed = jnp.broadcast_to(ws_a[:, None], (num, steps, *ws_a.shape[1:]))
            mixed = mixed.at[:, :, first:end].set(
                jnp.broadcast_to(ws_b[None, :, first:end], (num, steps, end - first,
                                                             ws_a.shape[-1])))
            cells = synthesize(jnp.reshape(mixed, (-1, *ws_a.shape[1:])))
            cells = cells.reshape(num, steps, *cells.shape[1:])
            rows.extend(np.concatenate([images_a[a : a + 1], cells[a]]) for a in range(num))
        return np.concatenate(rows), steps + 1
    if mode == "noise":
        ws = map_to_w(experiment.latents(key, num))
        draws = np.stack([synthesize(ws, experiment.example_keys(jax.random.fold_in(key, j),
                                                                 num))
                          for j in range(steps)], axis=1)
        spread = draws.std(axis=1, keepdims=True)
        spread = 2.0 * spread / max(float(spread.max()), 1e-8) - 1.0
        images = np.concatenate([draws, spread], axis=1)
        return images.reshape(-1, *images.shape[2:]), steps + 1
    raise ValueError(f"mode: {mode!r} is not a style picture ({', '.join(STYLE_MODES)})")


def write_picture(out: str, images: np.ndarray, columns: int, step: int,
                  generator: str) -> dict[str, Any]:
    """Writes a picture's images: a PNG grid, or an `.npz` with `samples` and `columns`."""
    if out.endswith(".npz"):
        tmp = out + ".tmp.npz"
        np.savez(tmp, samples=images, columns=columns, step=step)
        os.replace(tmp, out)
    else:
        grids.save_png(grids.make_grid(images, columns), out)
    return {"out": out, "step": step, "num": int(images.shape[0]), "generator": generator}
