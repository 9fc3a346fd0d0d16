"""Image-to-image translation through the whole loop: the pix2pix objective against hand-computed
numbers, a facades-setting run on a small aligned folder (metrics, grids, exact resume, pmap
against jit), gan-translate, and one-line errors."""

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import linen as nn
from PIL import Image

from configs import pix2pix_facades
from gan_jax import config as config_lib
from gan_jax.commands.translate import check_output, load_run, translate_files
from gan_jax.config.registry import ConfigError
from gan_jax.runs import evaluation
from gan_jax.runs.loop import train_and_evaluate
from gan_jax.training import objective as losses
from gan_jax.training.experiment import build_experiment
from gan_jax.training.state import create_state
from gan_jax.training.translation_step import TranslationSettings, make_translation_step
from tests.conftest import REPO
from tests.helpers import assert_states_identical, load_state
from tests.training.test_parallel import max_relative_difference, train_on_devices


class ConstantTranslator(nn.Module):
    """G(a) = w everywhere (w starts at 0)."""

    @nn.compact
    def __call__(self, a, labels=None, train=True):
        return jnp.zeros_like(a) + self.param("w", nn.initializers.zeros, ())


class PixelCritic(nn.Module):
    """D(x, a) = s * x per pixel (s starts at 1)."""

    @nn.compact
    def __call__(self, x, condition=None, train=True):
        return self.param("s", nn.initializers.ones, ()) * x[..., 0]


@pytest.mark.parametrize("gan_weight, l1_weight", [(1.0, 100.0), (0.0, 100.0), (1.0, 0.0)])
def test_pix2pix_objective_matches_hand_computed_numbers(gan_weight, l1_weight):
    # Targets b = 0.5 everywhere; G's output starts at w = 0; D's logits are s * x, s = 1.
    shape = (2, 2, 1)
    state = create_state(0, ConstantTranslator(), PixelCritic(), optax.sgd(0.01),
                         optax.sgd(0.0), 1, shape, condition_shape=shape)
    settings = TranslationSettings(batch_size=2, n_disc=1, ema_decay=0.0,
                                   l1_weight=l1_weight, gan_weight=gan_weight)

    def sample_pairs(data, key, batch_index, num):
        return {"x": jnp.full((num, *shape), 0.5), "condition": jnp.zeros((num, *shape))}

    step = make_translation_step(ConstantTranslator(), PixelCritic(),
                                 losses.get_loss("non_saturating"), optax.sgd(0.01),
                                 optax.sgd(0.0), settings, sample_pairs)
    new_state, metrics = jax.jit(step)(state, {})
    softplus = lambda v: np.log1p(np.exp(v))  # noqa: E731
    # D: half of BCE, real logits 0.5, fake logits 0.
    np.testing.assert_allclose(metrics["d_loss"], 0.5 * (softplus(-0.5) + softplus(0.0)),
                               rtol=1e-6)
    np.testing.assert_allclose(metrics["g_loss"], softplus(0.0), rtol=1e-6)  # -log D(G(a), a)
    np.testing.assert_allclose(metrics["g_l1"], 0.5, rtol=1e-6)
    # dG/dw = gan_weight * d softplus(-w)/dw + l1_weight * d|w - 0.5|/dw = -(gan/2 + l1).
    expected_w = 0.01 * (gan_weight * 0.5 + l1_weight)
    np.testing.assert_allclose(new_state.g_params["w"], expected_w, rtol=1e-6)


def write_aligned_facades(root, size: int = 20) -> str:
    """train/ (6) and test/ (3) aligned RGB pairs: A a smooth random field, B its negative."""
    rng = np.random.default_rng(0)
    for split, num in (("train", 6), ("test", 3)):
        os.makedirs(os.path.join(root, split))
        for i in range(num):
            a = (rng.random((size, size, 3)) * 255).astype(np.uint8)
            Image.fromarray(np.concatenate([a, 255 - a], axis=1)).save(
                os.path.join(root, split, f"{i}.jpg"), quality=95)
    return root


def tiny_facades(path: str, num_steps: int = 4):
    """configs/pix2pix_facades.py with 16x16 crops of 20x20 images, a 2-level U-Net and
    widths of 4, so it compiles in seconds; plain SGD, whose updates (unlike Adam's early
    ones, which divide by tiny gradients) do not amplify reduction-order rounding."""
    config = pix2pix_facades.get_config()
    config.seed = 0
    config.data.path = path
    config.data.load_size = 20
    config.data.crop_size = 16
    config.model.generator.width = 4
    config.model.generator.depth = 2
    config.model.generator.dropout_layers = 1
    config.model.discriminator.width = 4
    config.model.discriminator.patch = 16
    for player in (config.optim.g, config.optim.d):
        player.name, player.lr = "sgd", 0.05
    config.train.batch_size = 2
    config.train.num_steps = num_steps
    config.train.log_every = 2
    config.train.sample_every = 0
    config.train.checkpoint_every = 2
    config.train.progress_bar = False
    config.eval.num_samples = 3
    return config


@pytest.fixture(scope="module")
def facades(tmp_path_factory):
    return write_aligned_facades(str(tmp_path_factory.mktemp("facades")))


@pytest.fixture(scope="module")
def facades_run(facades, tmp_path_factory):
    """(workdir, eval) of a 4-step run of the tiny facades setting."""
    workdir = str(tmp_path_factory.mktemp("facades_run") / "straight")
    return workdir, train_and_evaluate(tiny_facades(facades), workdir)


def test_facades_setting_evaluates_draws_triplets_and_resumes_exactly(facades, facades_run,
                                                                      tmp_path):
    workdir, straight = facades_run
    for name in ("l1", "psnr", "ssim", "sharpness"):
        assert np.isfinite(straight["raw"][name]), name
    assert 0 < straight["raw"]["l1"] < 1 and -1 <= straight["raw"]["ssim"] <= 1
    grid = np.asarray(Image.open(os.path.join(workdir, "samples", "step_00000004_raw.png")))
    assert grid.shape == (2 + 2 * 18, 2 + 6 * 18, 3)  # 3 held-out pairs, 2 triplets a row.
    train_and_evaluate(tiny_facades(facades, num_steps=2), str(tmp_path / "resumed"))
    resumed = train_and_evaluate(tiny_facades(facades), str(tmp_path / "resumed"))
    assert_states_identical(load_state(workdir), load_state(str(tmp_path / "resumed")))
    assert resumed == straight


def test_gan_translate_writes_outputs_and_comparisons_for_a_folder(facades, facades_run,
                                                                   tmp_path):
    experiment, state = load_run(facades_run[0])
    out = str(tmp_path / "translated")
    summary = translate_files(experiment, state, os.path.join(facades, "test"), out,
                              aligned=True)
    assert summary["translated"] == summary["with_targets"] == 3
    assert sorted(os.listdir(out))[:2] == ["0.png", "0_compare.png"]
    assert np.asarray(Image.open(os.path.join(out, "0.png"))).shape == (16, 16, 3)
    compare = np.asarray(Image.open(os.path.join(out, "0_compare.png")))
    assert compare.shape == (2 + 18, 2 + 3 * 18, 3)  # input | output | target
    with pytest.raises(ConfigError, match="--target: .*0.jpg has no partner"):
        translate_files(experiment, state, os.path.join(facades, "test"), out,
                        target_path=str(tmp_path))


def test_gan_translate_refuses_a_file_name_for_a_folder_of_inputs(facades, tmp_path):
    folder = os.path.join(facades, "test")
    with pytest.raises(ConfigError, match="--out: translating the folder .* names a file, so "
                                          "give a folder \\(e.g. .*x/\\)"):
        check_output(folder, str(tmp_path / "x.png"))
    with pytest.raises(ConfigError, match="must end in .png"):
        check_output(os.path.join(folder, sorted(os.listdir(folder))[0]), str(tmp_path / "x"))
    check_output(folder, str(tmp_path / "translated"))  # A folder: fine.
    done = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "translate.py"),
                           "--workdir", str(tmp_path / "no_run"), "--input", folder,
                           "--out", str(tmp_path / "x.png")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "names a file, so give a folder" in done.stderr  # Checked before the run is read.
    assert not (tmp_path / "x.png").exists()


def test_translation_on_two_devices_matches_one_device(facades, facades_run, tmp_path):
    config = tiny_facades(facades)
    config.train.parallel = "pmap"
    done = train_on_devices(config, str(tmp_path / "pmap"), 2)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "pmap over 2 devices" in done.stderr
    # Crops, flips and dropout masks are drawn for the global batch: only reduction order
    # differs (a per-device mask or crop would differ at O(1)).
    difference = max_relative_difference(load_state(facades_run[0]),
                                         load_state(str(tmp_path / "pmap")))
    assert difference < 1e-4


def test_translation_config_errors_name_the_culprit(facades, tmp_path):
    from gan_jax.training.experiment import build_experiment

    def build(config):
        config_lib.validate(config)
        return build_experiment(config)

    config = tiny_facades(facades)
    config.model.condition = "none"
    with pytest.raises(ConfigError, match="model.condition: dataset 'aligned_folder' holds "
                                          "image pairs; set model.condition='image'"):
        build(config)
    config = tiny_facades(facades)
    config.model.generator = {"name": "dcgan"}
    with pytest.raises(ConfigError, match="model.generator.name: 'dcgan' is not an "
                                          "image-to-image family; families for this run: unet"):
        build(config)
    config = tiny_facades(facades)
    config.data.direction = "left"
    with pytest.raises(ConfigError, match="data.direction: 'left' is not one of AtoB, BtoA"):
        build(config)
    config = tiny_facades(facades)
    config.data.path = str(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="data.path: no folder"):
        build(config)


def test_gan_translate_and_gan_sample_refuse_the_other_kind_of_run(facades, facades_run,
                                                                    tmp_path):
    from gan_jax.commands.sample import check_request
    from gan_jax.commands.translate import read_inputs
    from gan_jax.training.experiment import build_experiment
    from tests.helpers import tiny_config

    ring = build_experiment(config_lib.with_seed(tiny_config(num_steps=2)))
    with pytest.raises(ConfigError, match="--workdir: this run is not image-to-image "
                                          r"\(model.condition is 'none'\); use gan-sample"):
        read_inputs(ring, facades)
    experiment, _ = load_run(facades_run[0])
    with pytest.raises(ConfigError, match="this run translates images .*use gan-translate"):
        check_request(experiment, "random", str(tmp_path / "x.png"), ())


@pytest.mark.parametrize("name", ["pix2pix_edges2fashion", "pix2pix_edges2mnist",
                                  "pix2pix_inpaint_fashion", "pix2pix_facades"])
def test_shipped_translation_configs_validate(name):
    import importlib

    config_lib.validate(importlib.import_module(f"configs.{name}").get_config())


def test_derived_pairs_hold_out_the_test_split(mnist_data_dir):
    from configs import pix2pix_edges2mnist
    from gan_jax.data.images import tfds_images
    from gan_jax.data.paired import center_crop, edge_map
    from gan_jax.training.experiment import build_experiment

    config = pix2pix_edges2mnist.get_config()
    config.seed = 0
    config.data.data_dir = mnist_data_dir
    experiment = build_experiment(config)
    assert experiment.dataset.example_shape == experiment.dataset.condition_shape == (32, 32, 1)
    inputs, targets = evaluation.held_out_pairs(experiment, 5)
    test_digits = tfds_images("mnist", "test", 36, 1, data_dir=mnist_data_dir).read()[0][:5]
    np.testing.assert_array_equal(targets, center_crop(test_digits, 32))
    np.testing.assert_array_equal(inputs, center_crop(edge_map(test_digits), 32))


def test_standing_statistics_are_refused_for_translation(facades):
    config = tiny_facades(facades)
    config.eval.standing_stats = 2
    with pytest.raises(ConfigError, match=r"eval.standing_stats: standing statistics are drawn "
                                          r"from latents"):
        build_experiment(config_lib.with_seed(config, 0))
