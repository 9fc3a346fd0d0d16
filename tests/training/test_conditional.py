"""Class-conditional training through the whole loop: the step's label handling, AC-GAN's
auxiliary loss, exact resume, pmap against jit, vectorised seeds, and one-line errors."""

import os

import jax
import numpy as np
import pytest
from ml_collections import ConfigDict

from gan_jax import config as config_lib
from gan_jax.commands.sample import check_request, load_run, make_latents
from gan_jax.config.registry import ConfigError
from gan_jax.data.images import ImageDataset, image_folder
from gan_jax.runs.loop import train_and_evaluate
from gan_jax.training.checks import resolve_classes
from gan_jax.training.experiment import build_experiment
from gan_jax.training.replicas import unstack
from gan_jax.training.update import make_multi_step
from tests.helpers import assert_states_identical, load_state, tiny_conditional_config
from tests.training.test_parallel import max_relative_difference, train_on_devices


def build(config):
    config_lib.validate(config)
    return build_experiment(config_lib.with_seed(config, 0))


def one_step(experiment):
    multi_step = jax.jit(make_multi_step(experiment.train_step()), static_argnums=2)
    return multi_step(experiment.init_state(), experiment.device_data(), 1)


def test_acgan_class_loss_trains_both_players():
    config = tiny_conditional_config(discriminator="ac")
    state, metrics = one_step(build(config))
    assert {"d_class_loss", "d_real_class_acc"} <= set(metrics)
    # Two cross-entropies (real and fake) of 8 classes start near 2 log 8.
    assert 0.5 * 2 * np.log(8) < float(metrics["d_class_loss"]) < 2 * 2 * np.log(8)
    config.loss.class_weight = 0.0
    without, _ = one_step(build(config))
    for params in ("g_params", "d_params"):
        a, b = jax.tree.leaves(getattr(state, params)), jax.tree.leaves(getattr(without, params))
        assert any(not np.allclose(x, y) for x, y in zip(a, b, strict=True)), params


def test_conditional_ring_resumes_exactly_and_reports_mode_accuracy(tmp_path):
    config = tiny_conditional_config(num_steps=100)
    config.model.fake_labels = "real"  # The other tests draw uniform labels.
    # Every interval a multiple of steps_per_call (25): one compiled call length.
    config.train.checkpoint_every = 50
    straight = train_and_evaluate(config, str(tmp_path / "straight"))
    assert 0.0 <= straight["ema"]["class_accuracy"] <= straight["ema"]["high_quality"]
    half = ConfigDict(config.to_dict())
    half.train.num_steps = 50
    train_and_evaluate(half, str(tmp_path / "resumed"))
    resumed = train_and_evaluate(config, str(tmp_path / "resumed"))
    assert_states_identical(load_state(str(tmp_path / "straight")),
                            load_state(str(tmp_path / "resumed")))
    assert resumed == straight


def test_conditional_step_on_four_devices_matches_one_device(tmp_path):
    # A cBN generator: its BatchNorm statistics span the devices (cross-replica).
    config = tiny_conditional_config(num_steps=30, generator="cbn")
    config.train.steps_per_call = 10
    # Plain SGD: Adam divides by tiny early gradients (zero-initialised cBN biases), which
    # turns reduction-order noise into differences of order the learning rate.
    for player in (config.optim.g, config.optim.d):
        player.name, player.lr = "sgd", 0.05
    train_and_evaluate(config, str(tmp_path / "jit"))
    config.train.parallel = "pmap"
    done = train_on_devices(config, str(tmp_path / "pmap"), 4)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "pmap over 4 devices" in done.stderr
    difference = max_relative_difference(load_state(str(tmp_path / "jit")),
                                         load_state(str(tmp_path / "pmap")))
    assert difference < 1e-4  # Reduction order only; a label mix-up would be O(1).


def test_vectorised_conditional_seeds_equal_separate_runs(tmp_path):
    config = tiny_conditional_config(num_steps=50, seed=4, generator="cbn")
    config.train.num_seeds = 2
    train_and_evaluate(config, str(tmp_path / "both"))
    train_and_evaluate(tiny_conditional_config(num_steps=50, seed=5, generator="cbn"),
                       str(tmp_path / "alone"))
    difference = max_relative_difference(unstack(load_state(str(tmp_path / "both")), 1),
                                         load_state(str(tmp_path / "alone")))
    assert difference < 1e-5


def test_conditioning_errors_name_the_culprit(tmp_path):
    config = tiny_conditional_config()
    config.model.num_classes = 10
    with pytest.raises(ConfigError, match="model.num_classes: 10, but dataset 'ring' has 8"):
        build(config)
    unlabelled = ImageDataset("CelebA", (8, 8, 3), lambda: None)
    with pytest.raises(ConfigError, match="model.condition: 'class' needs labelled data"):
        resolve_classes(tiny_conditional_config(), unlabelled)
    config = tiny_conditional_config()
    config.model.condition = "label"
    with pytest.raises(ConfigError, match="model.condition: must be one of none, class"):
        config_lib.validate(config)

    (tmp_path / "flat" / "train").mkdir(parents=True)
    (tmp_path / "flat" / "train" / "a.png").write_bytes(b"")
    with pytest.raises(ConfigError, match=r"train has no class subfolders \(it holds 1 files"):
        image_folder(str(tmp_path / "flat"))


def test_labels_asked_for_are_checked(tmp_path):
    workdir = str(tmp_path / "run")
    train_and_evaluate(tiny_conditional_config(num_steps=20), workdir)
    experiment, _ = load_run(workdir)
    with pytest.raises(ConfigError, match=r"--label: class 8 is out of range; this run has 8 "
                                          r"classes \(0..7\)"):
        check_request(experiment, "random", "x.png", (), label=8)
    with pytest.raises(ConfigError, match="--per-class: draws random samples"):
        check_request(experiment, "traverse", "x.png", (0,), per_class=2)
    z, labels, columns = make_latents(experiment, "random", 0, per_class=3)
    assert columns == 3 and labels.tolist() == [k for k in range(8) for _ in range(3)]
    np.testing.assert_array_equal(z[:3], z[3:6])  # Column j: one latent for every class.
    _, labels, _ = make_latents(experiment, "interpolate", 2, steps=4, label=5)
    assert labels.tolist() == [5] * 8

    unconditional = load_run_of(tmp_path)
    with pytest.raises(ConfigError, match="--label: this run is unconditional"):
        check_request(unconditional, "random", "x.png", (), label=1)


def load_run_of(tmp_path):
    from tests.helpers import tiny_config

    workdir = str(tmp_path / "unconditional")
    train_and_evaluate(tiny_config(num_steps=10), workdir)
    return load_run(workdir)[0]


def test_folder_labels_out_of_range_are_caught(tmp_path):
    from tests.helpers import write_digit_folder

    root = write_digit_folder(tmp_path, {"train": 20})
    dataset = image_folder(root, image_size=8, channels=1)
    assert dataset.num_classes == len(os.listdir(os.path.join(root, "train")))
    narrower = ImageDataset(dataset.description, dataset.example_shape, dataset.read,
                            num_classes=2)
    with pytest.raises(ConfigError, match="labels range over .* outside the dataset's 2"):
        narrower.load()
