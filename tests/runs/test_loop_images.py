"""The loop on image data: outputs, sample grids, and exact resume."""

import json
import os

import numpy as np
from PIL import Image

from gan_jax.runs.loop import train_and_evaluate
from tests.helpers import (
    assert_states_identical,
    load_state,
    tiny_image_config,
    tiny_stylegan_config,
)


def test_image_run_writes_grids_and_tensorboard_images(image_folder, tmp_path):
    workdir = str(tmp_path / "run")
    train_and_evaluate(tiny_image_config(image_folder, num_steps=20), workdir)
    samples = sorted(os.listdir(os.path.join(workdir, "samples")))
    assert samples == ["step_00000010_ema.png", "step_00000010_raw.png",
                       "step_00000020_ema.png", "step_00000020_raw.png"]
    grid = np.asarray(Image.open(os.path.join(workdir, "samples", samples[-1])))
    assert grid.shape == (8 * 10 + 2, 8 * 10 + 2, 3)  # 64 samples of 8x8, 2-pixel borders.
    assert grid[2:10, 2:10].std() > 0  # Not a blank picture.
    events = os.listdir(os.path.join(workdir, "tensorboard"))
    assert events
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        steps = [json.loads(line)["step"] for line in f]
    assert steps == [10, 20]


def test_fixed_noise_grids_change_with_training_only(image_folder, tmp_path):
    """The grid latents come from the seed: two runs with one seed draw identical grids."""
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    for workdir in (a, b):
        train_and_evaluate(tiny_image_config(image_folder, num_steps=10), workdir)
    pictures = [np.asarray(Image.open(os.path.join(w, "samples", "step_00000010_raw.png")))
                for w in (a, b)]
    np.testing.assert_array_equal(*pictures)


def modern_image_config(folder: str, num_steps: int):
    """The tiny DCGAN with spectral norm in D, self-attention in both players, DiffAugment
    and R1: every piece of state and randomness a resumed run must restore."""
    config = tiny_image_config(folder, num_steps=num_steps)
    config.model.generator.attention = 4
    config.model.discriminator.update(dict(spectral_norm="all", attention=4))
    config.train.diff_augment = "color,translation,cutout"
    config.loss.r1_weight = 1.0
    config.train.steps_per_call = 1  # A scan of these steps compiles far slower than one.
    config.train.sample_every = 0  # Grids are tested above; here they would only compile.
    return config


def test_image_run_resumes_exactly(image_folder, tmp_path):
    straight = str(tmp_path / "straight")
    train_and_evaluate(modern_image_config(image_folder, num_steps=30), straight)
    resumed = str(tmp_path / "resumed")
    train_and_evaluate(modern_image_config(image_folder, num_steps=13), resumed)
    assert int(load_state(resumed).step) == 13
    train_and_evaluate(modern_image_config(image_folder, num_steps=30), resumed)
    # Same batches (24 images, batch 8: several epochs), augmentations, BatchNorm
    # statistics, power-iteration vectors and weights, bit for bit.
    final = load_state(resumed)
    assert set(final.d_state) == {"spectral"} and set(final.g_state) == {"batch_stats"}
    assert_states_identical(load_state(straight), final)


def test_stylegan_run_resumes_exactly_with_its_average_w(image_folder, tmp_path):
    """Style mixing, per-example noise, lazy R1 (every 4th D update, so the resumed part
    starts between two), lazy path-length regularisation with its running mean, and the
    tracked average w continue bit for bit."""
    straight = str(tmp_path / "straight")
    train_and_evaluate(tiny_stylegan_config(image_folder, num_steps=12), straight)
    resumed = str(tmp_path / "resumed")
    train_and_evaluate(tiny_stylegan_config(image_folder, num_steps=6), resumed)
    train_and_evaluate(tiny_stylegan_config(image_folder, num_steps=12), resumed)
    final = load_state(resumed)
    assert float(np.abs(final.g_state["stats"]["w_avg"]).sum()) > 0
    assert float(final.g_state["path_length"]["mean"]) > 0
    assert_states_identical(load_state(straight), final)


def test_the_folder_recipe_trains_on_a_folder_as_the_readme_gives_it(image_folder, tmp_path):
    from configs import dcgan_folder

    config = dcgan_folder.get_config()
    assert (config.data.image_size, config.data.channels, config.train.ema_rampup) == (
        32, 3, 0.05)
    config.seed = 0
    config.data.path = image_folder
    config.data.image_size = 12  # 3 * 2**2: the recipe's size rule, at a test's size.
    config.model.generator.width = config.model.discriminator.width = 4
    config.train.batch_size, config.train.num_steps = 8, 2
    config.train.sample_every = config.train.log_every = config.train.checkpoint_every = 2
    config.train.progress_bar = False
    workdir = str(tmp_path / "mine")
    result = train_and_evaluate(config, workdir)
    assert result["step"] == 2 and result["raw"] == {} and result["ema"] == {}
    grid = np.asarray(Image.open(os.path.join(workdir, "samples", "step_00000002_ema.png")))
    assert grid.shape == (8 * 14 + 2, 8 * 14 + 2, 3)
