"""gan-project on small runs: what it writes, and what it refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from gan_jax.commands.project import load_run, project_files, read_targets
from gan_jax.config.registry import ConfigError
from gan_jax.eval.extractors import load_classifier
from gan_jax.eval.projection import ProjectionSettings
from gan_jax.runs.loop import train_and_evaluate
from tests.helpers import tiny_image_config, tiny_stylegan_config, write_digit_folder

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A 3-step StyleGAN2 run and a 2-step conditional DCGAN run on 8x8 grey digits, and a
    folder of 3 target images (28x28: the projector resizes them)."""
    root = tmp_path_factory.mktemp("project")
    data = write_digit_folder(root / "data", {"train": 24, "test": 3})
    style = tiny_stylegan_config(data, num_steps=3)
    style.data.channels = 1
    style.train.checkpoint_every = 3
    train_and_evaluate(style, str(root / "style"))
    dcgan = tiny_image_config(data, num_steps=2)
    dcgan.data.channels = 1
    dcgan.model.condition = "class"
    dcgan.train.checkpoint_every = 2
    dcgan.train.sample_every = 0
    train_and_evaluate(dcgan, str(root / "dcgan"))
    targets = root / "targets"
    targets.mkdir()
    for i, path in enumerate(sorted(os.listdir(os.path.join(data, "test", "0")))[:1]
                             + sorted(os.listdir(os.path.join(data, "test", "1")))[:1]):
        Image.open(os.path.join(data, "test", str(i), path)).save(targets / f"t{i}.png")
    Image.fromarray(np.zeros((20, 40), np.uint8)).save(targets / "wide.png")
    return {"style": str(root / "style"), "dcgan": str(root / "dcgan"),
            "targets": str(targets), "root": root}


def test_targets_are_cropped_to_the_aspect_and_resized(tmp_path):
    """A 20x40 image with bright side bands: its central 20x20 is black, and that is what an
    8x8 generator's target holds (bicubic's support reaches the bands only at the edge
    columns; a squeeze without the crop would make them white)."""
    wide = np.zeros((20, 40), np.uint8)
    wide[:, :10] = wide[:, 30:] = 255
    Image.fromarray(wide).save(tmp_path / "wide.png")
    Image.fromarray(np.full((28, 28, 3), 200, np.uint8)).save(tmp_path / "rgb.png")
    targets = read_targets([str(tmp_path / "wide.png"), str(tmp_path / "rgb.png")], (8, 8, 1))
    assert targets.shape == (2, 8, 8, 1) and targets.dtype == np.uint8
    assert int(targets[0, :, 1:-1].max()) == 0 and int(targets[0].max()) < 64
    assert int(targets[1].min()) == int(targets[1].max()) == 200  # RGB read as grey.
    # A run trained on padded images (data.pad) gets its targets padded alike.
    padded = read_targets([str(tmp_path / "rgb.png")], (8, 8, 1), pad=2)
    assert padded.shape == (1, 8, 8, 1) and int(padded[0, 2:6, 2:6].min()) == 200
    assert int(padded[0, :2].max()) == int(padded[0, :, 6:].max()) == 0


def test_projection_writes_images_pairs_and_latents(runs, tiny_classifier):
    experiment, state = load_run(runs["style"])
    out = str(runs["root"] / "projected")
    extractor = load_classifier(tiny_classifier[0])
    summary = project_files(experiment, state, runs["targets"], out,
                            ProjectionSettings(steps=20, space="w+", avg_samples=100),
                            extractor=extractor, batch_size=2)
    assert summary["projected"] == 3 and summary["extractor"] == extractor.name
    assert summary["pixel_mse"] > 0 and summary["feature_distance"] > 0
    assert sorted(os.listdir(out)) == ["compare.png", "projection.npz", "t0.png", "t1.png",
                                       "wide.png"]
    assert np.asarray(Image.open(os.path.join(out, "t0.png"))).shape == (8, 8)
    # Three (target, projection) pairs in a row: 6 images of 8 pixels, 2-pixel padding.
    assert np.asarray(Image.open(os.path.join(out, "compare.png"))).shape == (12, 62)
    saved = np.load(os.path.join(out, "projection.npz"))
    assert list(saved["names"]) == ["t0", "t1", "wide"] and str(saved["space"]) == "w+"
    num_ws = experiment.generator.num_ws
    assert saved["latents"].shape == (3, num_ws, 8)
    assert saved["pixel"].shape == saved["feature"].shape == (3,)
    assert saved["loss"].shape == (2, 20)  # Two batches (2 + 1 targets) of 20 steps.
    assert saved["noise_0"].shape == (3, 4, 4, 1) and "labels" not in saved


def test_the_command_line_projects_on_pixels(runs):
    out = str(runs["root"] / "cli")
    done = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "gan-project"), "--workdir",
         runs["style"], "--input", os.path.join(runs["targets"], "t1.png"), "--out", out,
         "--steps", "5", "--feature-weight", "0", "--avg-samples", "50"],
        capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["projected"] == 1 and summary["extractor"] is None
    assert summary["space"] == "w" and os.path.exists(os.path.join(out, "t1.png"))


def test_what_cannot_be_projected_is_refused(runs):
    experiment, state = load_run(runs["dcgan"])
    out = str(runs["root"] / "refused")
    pixels = dict(feature_weight=0.0, avg_samples=50, steps=2)
    with pytest.raises(ConfigError, match="--space: 'w' needs a style-based generator"):
        project_files(experiment, state, runs["targets"], out, ProjectionSettings(**pixels))
    with pytest.raises(ConfigError, match="--label: this run is class-conditional"):
        project_files(experiment, state, runs["targets"], out,
                      ProjectionSettings(space="z", **pixels))
    with pytest.raises(ConfigError, match="--input: no such file or folder"):
        project_files(experiment, state, "nowhere", out, ProjectionSettings(space="z",
                                                                            **pixels))
    # With the class given, z projection runs (the targets' labels are saved).
    summary = project_files(experiment, state, runs["targets"], out,
                            ProjectionSettings(space="z", **pixels), label=3)
    assert summary["projected"] == 3
    assert list(np.load(os.path.join(out, "projection.npz"))["labels"]) == [3, 3, 3]
