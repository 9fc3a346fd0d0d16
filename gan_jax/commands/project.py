"""Projects images into a run's generator (`gan-project`): the latent of each target image.

Targets are read as the run's data (grey or RGB), centre-cropped to the generator's aspect
ratio and resized to its H x W (bicubic); a run whose data is padded (`data.pad`) gets its
targets resized to the unpadded size and padded alike. The distance's features come from the run's
evaluation extractor (`eval.extractor`, `eval.extractor_path`) unless another is given. Writes
into `out`: each projection as <name>.png, `compare.png` (target | projection, one pair per
target), and `projection.npz` (names, space, latents, the noise maps of a style-based G,
labels, per-target pixel and feature distances, the loss per step).
"""

from __future__ import annotations

import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.commands.translate import image_files
from gan_jax.config import ConfigError
from gan_jax.eval import projection
from gan_jax.eval.extractors import FeatureExtractor, build_extractor, missing_extractor
from gan_jax.runs import grids, rundir
from gan_jax.training.experiment import Experiment


def read_targets(files: list[str], shape: tuple[int, ...], pad: int = 0) -> np.ndarray:
    """uint8 [n, H, W, C] of the files, cropped to the aspect of `shape` and resized to it;
    with `pad`, resized to the shape less `pad` pixels on every side, then padded with 0."""
    from PIL import Image, ImageOps

    if pad:
        inner = read_targets(files, (shape[0] - 2 * pad, shape[1] - 2 * pad, shape[2]))
        return np.pad(inner, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    height, width, channels = shape
    images = []
    for path in files:
        try:
            with Image.open(path) as image:
                picture = ImageOps.fit(image.convert("L" if channels == 1 else "RGB"),
                                       (width, height), Image.Resampling.BICUBIC)
        except OSError as error:
            raise ConfigError(f"--input: cannot read {path}: {error}") from error
        array = np.asarray(picture)
        images.append(array[..., None] if channels == 1 else array)
    return np.stack(images)


def feature_function(extractor: FeatureExtractor, channels: int) -> projection.FeatureFn:
    """Differentiable features of images in [-1, 1] with `channels` channels, read as the
    extractor reads them for metrics (repeated to RGB, or channel by channel)."""

    def features(images: jax.Array) -> jax.Array:
        pixels = (images + 1.0) * 127.5
        if channels == extractor.input_channels:
            return extractor.apply(pixels)[0]
        if extractor.input_channels == 3 and channels == 1:
            return extractor.apply(jnp.repeat(pixels, 3, axis=-1))[0]
        if extractor.input_channels == 1:
            return jnp.concatenate([extractor.apply(pixels[..., c : c + 1])[0]
                                    for c in range(channels)], axis=-1)
        raise ConfigError(f"--extractor: {extractor.name} reads {extractor.input_channels}-"
                          f"channel images; this run makes {channels}-channel ones")

    return features


def resolve_extractor(experiment: Experiment, kind: str | None, path: str | None,
                      settings: projection.ProjectionSettings) -> FeatureExtractor | None:
    """The extractor of the feature distance (None when its weight is 0)."""
    if not settings.feature_weight:
        return None
    kind = kind or experiment.config.eval.extractor
    path = path if path is not None else experiment.config.eval.extractor_path
    missing = missing_extractor(kind, path, experiment.config.data.name)
    if missing:
        raise ConfigError(f"--extractor-path: {missing}; or project on pixels alone with "
                          "--feature-weight 0")
    return build_extractor(kind, path, experiment.config.eval.resize if kind ==
                           experiment.config.eval.extractor else "")


def project_files(experiment: Experiment, state: Any, input_path: str, out: str,
                  settings: projection.ProjectionSettings, label: int | None = None,
                  extractor: FeatureExtractor | None = None, generator: str = "ema",
                  seed: int = 0, batch_size: int = 32) -> dict[str, Any]:
    """Projects an image or a folder of images (see the module docstring)."""
    g = experiment.generator
    settings.check(hasattr(g, "synthesize"))
    if experiment.translation:
        raise ConfigError("--workdir: this run translates images (model.condition='image'); "
                          "it has no latent space to project into")
    files = image_files(input_path)
    shape = tuple(experiment.dataset.example_shape)
    targets = read_targets(files, shape, int(experiment.config.data.get("pad", 0) or 0))
    labels = experiment.check_labels(None if label is None else [label] * len(files),
                                     "--label")
    params, g_state = experiment.generators(state)[generator]
    variables = {"params": params, **g_state}
    features = None if extractor is None else feature_function(extractor, shape[-1])
    key = jax.random.PRNGKey(seed)
    results = []
    for start in range(0, len(files), batch_size):
        part = slice(start, start + batch_size)
        batch_labels = None if labels is None else jnp.asarray(labels[part])
        space = projection.build_space(
            g, variables, settings.space, len(files[part]), jax.random.fold_in(key, 0),
            experiment.latents, batch_labels, settings.avg_samples)
        chunk = jnp.asarray(targets[part], jnp.float32) / 127.5 - 1.0
        results.append(jax.device_get(projection.project(
            space, chunk, settings, jax.random.fold_in(key, 1 + start), features)))
    joined = {k: np.concatenate([r[k] for r in results]) for k in ("latents", "images",
                                                                  "pixel", "feature")}
    noise = [np.concatenate([r["noise"][i] for r in results])
             for i in range(len(results[0]["noise"]))]
    return write_projections(out, files, targets, joined, noise, results, settings, labels,
                             extractor, int(state.step))


def write_projections(out: str, files: list[str], targets: np.ndarray, joined: dict,
                      noise: list[np.ndarray], results: list[dict],
                      settings: projection.ProjectionSettings, labels: np.ndarray | None,
                      extractor: FeatureExtractor | None, step: int) -> dict[str, Any]:
    os.makedirs(out, exist_ok=True)
    names = [os.path.splitext(os.path.basename(f))[0] for f in files]
    for name, image in zip(names, joined["images"], strict=True):
        grids.save_png(grids.make_grid(image[None], 1, padding=0), os.path.join(out,
                                                                              f"{name}.png"))
    pairs = np.stack([targets.astype(np.float32) / 127.5 - 1.0, joined["images"]], axis=1)
    columns = 2 * min(4, len(files))
    grids.save_png(grids.make_grid(pairs.reshape(-1, *targets.shape[1:]), columns),
                   os.path.join(out, "compare.png"))
    arrays = {"names": np.asarray(names), "space": np.asarray(settings.space),
              "latents": joined["latents"], "pixel": joined["pixel"],
              "feature": joined["feature"], "step": np.asarray(step),
              "loss": np.stack([r["loss"] for r in results])}
    arrays |= {f"noise_{i}": v for i, v in enumerate(noise)}
    if labels is not None:
        arrays["labels"] = labels
    tmp = os.path.join(out, "projection.tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, os.path.join(out, "projection.npz"))
    return {"out": out, "step": step, "projected": len(files), "space": settings.space,
            "steps": settings.steps,
            "extractor": None if extractor is None else extractor.name,
            "pixel_mse": float(np.mean(joined["pixel"])),
            "feature_distance": float(np.mean(joined["feature"]))}


def load_run(workdir: str) -> tuple[Experiment, Any]:
    """The experiment of `workdir` and its latest checkpointed state."""
    return rundir.load_run(workdir)
