"""Applies a trained image-to-image run to image files (`gan-translate`).

Each input is read as the run's inputs were (grey or RGB), resized to the run's load size and
centre-cropped to its crop size, like the held-out pairs it was evaluated on. With `aligned`,
each file holds an input and its target side by side, split in the run's direction; with
`target`, targets are the files of the same name there. Writes each output, and a comparison
(input | output | target when there is one) beside it.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import numpy as np

from gan_jax.config import ConfigError
from gan_jax.data.paired import (
    IMAGE_EXTENSIONS,
    center_crop,
    read_image,
    resize,
    split_aligned,
)
from gan_jax.runs import grids, rundir
from gan_jax.training.experiment import Experiment


def image_files(path: str, flag: str = "--input") -> list[str]:
    """`path` itself, or the images in the folder `path` (sorted by name)."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise ConfigError(f"{flag}: no such file or folder {path!r}")
    files = sorted(os.path.join(path, f) for f in os.listdir(path)
                   if f.lower().endswith(IMAGE_EXTENSIONS))
    if not files:
        raise ConfigError(f"{flag}: {path} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
    return files


def check_output(input_path: str, out: str) -> None:
    """Raises ConfigError, before the run is loaded, when `out` cannot hold what `input_path`
    gives: one PNG for one image, a folder for a folder of them."""
    if os.path.isfile(input_path):
        if not out.endswith(".png"):
            raise ConfigError(f"--out: translating one image writes one PNG; {out!r} must end "
                              "in .png")
        return
    if os.path.isdir(input_path) and (out.lower().endswith(IMAGE_EXTENSIONS)
                                      or os.path.isfile(out)):
        raise ConfigError(f"--out: translating the folder {input_path} writes an output and a "
                          f"comparison per image into a folder; {out!r} names a file, so give "
                          f"a folder (e.g. {os.path.splitext(out)[0]}/)")


def _prepare(experiment: Experiment, image: np.ndarray) -> np.ndarray:
    dataset = experiment.dataset
    return center_crop(resize(image, dataset.load_size)[None], dataset.crop_size)[0]


def read_inputs(experiment: Experiment, input_path: str, target_path: str | None = None,
                aligned: bool = False) -> tuple[list[str], np.ndarray, list[np.ndarray | None]]:
    """(file names, uint8 inputs [n, crop, crop, Ca], targets or None per file), prepared as
    the run's held-out pairs; ConfigError for unreadable files or missing partners."""
    if not experiment.translation:
        raise ConfigError("--workdir: this run is not image-to-image (model.condition is "
                          f"{experiment.config.model.condition!r}); use gan-sample")
    if aligned and target_path:
        raise ConfigError("--aligned and --target: give one (targets beside the inputs, or in "
                          "a folder of their own)")
    dataset = experiment.dataset
    direction = experiment.config.data.get("direction", "AtoB")
    files = image_files(input_path, "--input")
    names, inputs, targets = [], [], []
    for path in files:
        name = os.path.basename(path)
        try:
            if aligned:
                combined = read_image(path, max(dataset.input_channels,
                                                dataset.target_channels))
                if combined.shape[1] % 2:
                    raise ConfigError(f"--input: aligned image {path} has odd width "
                                      f"{combined.shape[1]}")
                a, b = split_aligned(combined, direction)
                a, b = a[..., : dataset.input_channels], b[..., : dataset.target_channels]
                target = _prepare(experiment, b)
            else:
                a = read_image(path, dataset.input_channels)
                target = None
                if target_path:
                    partner = (os.path.join(target_path, name) if os.path.isdir(target_path)
                               else target_path)
                    if not os.path.isfile(partner):
                        raise ConfigError(f"--target: {path} has no partner {partner}")
                    target = _prepare(experiment, read_image(partner, dataset.target_channels))
        except OSError as error:
            raise ConfigError(f"--input: cannot read image {path}: {error}") from None
        names.append(name)
        inputs.append(_prepare(experiment, a))
        targets.append(target)
    return names, np.stack(inputs), targets


def translate_files(experiment: Experiment, state: Any, input_path: str, out: str,
                    target_path: str | None = None, aligned: bool = False,
                    generator: str = "raw", seed: int = 0) -> dict[str, Any]:
    """Translates an image or a folder of images; writes outputs and comparisons to `out` (a
    .png file for one image, else a folder). `seed` draws the dropout G keeps on at sampling."""
    check_output(input_path, out)
    names, inputs, targets = read_inputs(experiment, input_path, target_path, aligned)
    single = os.path.isfile(input_path)
    params, g_state = experiment.generators(state)[generator]
    outputs = experiment.translate(params, g_state, inputs, jax.random.PRNGKey(seed))
    if single:
        paths = [(out, out[: -len(".png")] + "_compare.png")]
    else:
        os.makedirs(out, exist_ok=True)
        paths = [(os.path.join(out, f"{os.path.splitext(n)[0]}.png"),
                  os.path.join(out, f"{os.path.splitext(n)[0]}_compare.png")) for n in names]
    for i, (output_path, compare_path) in enumerate(paths):
        grids.save_png(outputs[i], output_path)
        target = None if targets[i] is None else targets[i][None]
        grids.save_png(grids.triplet_grid(inputs[i : i + 1], outputs[i : i + 1], target,
                                          per_row=1), compare_path)
    return {"step": int(state.step), "generator": generator, "translated": len(names),
            "with_targets": sum(t is not None for t in targets),
            "out": out if not single else paths[0][0]}


def load_run(workdir: str) -> tuple[Experiment, Any]:
    """The experiment of `workdir` and its latest checkpointed state."""
    return rundir.load_run(workdir)
