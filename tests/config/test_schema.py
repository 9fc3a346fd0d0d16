import os

import pytest
from ml_collections import ConfigDict

from configs import mog
from gan_jax import config as config_lib
from gan_jax.config import base_config
from gan_jax.config.registry import ConfigError
from gan_jax.training.checks import validate
from gan_jax.training.experiment import build_experiment

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("mixture", ["ring", "grid"])
def test_shipped_configs_validate_and_have_the_everyday_keys(mixture):
    config = mog.get_config(mixture)
    config_lib.validate(config)
    for key in ("seed", "train.num_steps", "train.batch_size", "train.n_disc",
                "train.checkpoint_every", "loss.name", "data.name"):
        node = config
        for part in key.split("."):
            assert part in node, key
            node = node[part]


def _set(config, key, value):
    *path, leaf = key.split(".")
    node = config
    for part in path:
        node = node[part]
    node[leaf] = value


BAD_INPUTS = [
    ("train.n_dsic", 1, r"unknown config key 'train.n_dsic'; did you mean 'train.n_disc'"),
    ("train.lr", 1e-3, r"'train.lr'; did you mean 'optim.d.lr' or 'optim.g.lr'"),
    ("model.generator.width", 64, r"model.generator.width for MLPGenerator; did you mean "
                                  r"'model.generator.hidden_dim'"),
    # A misspelt synonym means what the synonym means.
    ("model.generator.widht", 64, r"model.generator.widht for MLPGenerator; did you mean "
                                  r"'model.generator.hidden_dim'"),
    ("model.discriminator.lyers", 3, r"did you mean 'model.discriminator.depth'"),
    ("optimizer", "adam", r"unknown config key 'optimizer'"),
    ("train.num_steps", "100", r"train.num_steps: expected int, got str"),
    ("train.batch_size", 64.0, r"train.batch_size: expected int, got float"),
    ("optim.d.lr", "1e-4", r"optim.d.lr: expected float, got str"),
    ("train.progress_bar", 1, r"train.progress_bar: expected bool, got int"),
    ("model.generator.name", "gigagan", r"model.generator.name: unknown generator 'gigagan'"),
    ("model.discriminator.name", "cnn", r"model.discriminator.name: unknown discriminator"),
    ("loss.name", "wgan", r"loss.name: unknown loss 'wgan'"),
    ("optim.g.name", "adma", r"optim.g.name: unknown optimizer 'adma'; did you mean 'adam'"),
    ("optim.d.schedule", "step", r"optim.d.schedule: unknown schedule 'step'"),
    ("data.name", "rign", r"data.name: unknown dataset 'rign'; did you mean 'ring'"),
    ("model.latent_dist", "laplace", r"model.latent_dist: must be one of normal, uniform"),
    ("train.batch_size", 0, r"train.batch_size: must be >= 1, got 0"),
    ("train.num_steps", -5, r"train.num_steps: must be >= 1, got -5"),
    ("model.latent_dim", 0, r"model.latent_dim: must be >= 1, got 0"),
    ("model.generator.hidden_dim", 0, r"model.generator.hidden_dim: must be a positive size"),
    ("data.num_modes", 0, r"data.num_modes: must be positive, got 0"),
    ("train.n_disc", 0, r"train.n_disc: must be >= 1, got 0"),
    ("train.ema_decay", 1.0, r"train.ema_decay: must be in \[0, 1\)"),
    ("optim.g.weight_decay", 0.1, r"optim.g.weight_decay: only 'adamw'"),
    ("loss.r1_weight", -1.0, r"loss.r1_weight: must be >= 0"),
    ("seed", -1, r"seed: must be a non-negative integer"),
    ("train.precision", "float16", r"train.precision: must be one of float32, bfloat16"),
    ("train.diff_augment", "color", r"train.diff_augment: augments images; dataset 'ring' "
                                    r"holds points"),
    ("model.discriminator.spectral_norm", "bias", r"model.discriminator.spectral_norm: "
                                                  r"spectral norm cannot be applied to 'bias'"),
    ("loss.r1_interval", 0, r"loss.r1_interval: must be >= 1"),
    ("loss.pl_interval", 0, r"loss.pl_interval: must be >= 1"),
    ("loss.dragan_scale", 0.0, r"loss.dragan_scale: must be > 0"),
    ("train.unroll_steps", -1, r"train.unroll_steps: must be >= 0"),
    ("model.packing", 0, r"model.packing: must be >= 1"),
    ("model.packing", 3, r"model.packing: train.batch_size=512 does not divide into packs of 3"),
]


@pytest.mark.parametrize("key, value, message", [
    ("model.generator.mixing_prob", -0.1, r"mixing_prob: a probability in \[0, 1\], got -0.1"),
    ("data.image_size", 9, r"model.generator: a style-based model cannot make \(9, 9, 3\) images"),
    ("loss.pl_decay", 0.0, r"loss.pl_decay: must be in \(0, 1\]"),
    ("loss.pl_batch_shrink", 3, r"loss.pl_batch_shrink: its batch, train.batch_size=8 / 3, "
                                r"must divide evenly over 1 device"),
    ("eval.metrics", "fd,ppl", None),
    ("loss.pl_weight", 1.0, None),
])
def test_bad_style_based_settings_raise_one_clear_error(image_folder, key, value, message):
    from tests.helpers import tiny_image_config, tiny_stylegan_config

    config = tiny_stylegan_config(image_folder)
    if message is None:  # Style-based features asked of a DCGAN.
        config = tiny_image_config(image_folder)
        message = {"eval.metrics": r"eval.metrics: 'ppl' \(path length in W\) needs a "
                                   r"style-based generator",
                   "loss.pl_weight": r"loss.pl_weight: path-length regularisation needs an "
                                     r"unconditional style-based generator"}[key]
    _set(config, key, value)
    with pytest.raises(ConfigError, match=message):
        validate(config)
        build_experiment(config_lib.with_seed(config, 0))


@pytest.mark.parametrize("key,value,message", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_raises_one_clear_error(key, value, message):
    config = mog.get_config()
    with config.ignore_type():
        _set(config, key, value)
    with pytest.raises(ConfigError, match=message):
        # The entry points' checks (schema and penalty table), then the names that building
        # resolves.
        validate(config)
        build_experiment(config_lib.with_seed(config, 0))


@pytest.mark.parametrize("name", ["sngan_fashion_mnist", "sagan_fashion_mnist", "sngan_cifar10",
                                  "sngan_cifar10:conditional", "sagan_cifar10", "stylegan_mnist",
                                  "stylegan_mnist:adain", "stylegan_fashion_mnist",
                                  "stylegan2_folder256", "stylegan2_folder256:adain",
                                  "r3gan_fashion_mnist", "r3gan_fashion_mnist:conditional",
                                  "r3gan_cifar10", "r3gan_cifar10:unconditional",
                                  "biggan_cifar10", "biggan_cifar10:hierarchical",
                                  "biggan_fashion_mnist", "biggan_fashion_mnist:unconditional",
                                  "stylegan2_ada_cifar10"])
def test_shipped_image_family_configs_validate_and_build(name):
    from gan_jax import models
    config = config_lib.load_config_file(f"configs/{name.replace(':', '.py:', 1)}"
                                         if ":" in name else f"configs/{name}.py",
                                         relative_to=REPO)
    config_lib.validate(config)
    size = config.data.image_size + 2 * config.data.get("pad", 0)
    shape = (size, size, config.data.channels)
    classes = 10 if config.model.condition == "class" else 0
    models.build_generator(config.model.generator, shape, num_classes=classes)
    models.build_discriminator(config.model.discriminator, num_classes=classes)


def test_config_validation_imports_nothing_else_from_the_package():
    import ast
    import glob

    for path in glob.glob(os.path.join(REPO, "gan_jax", "config", "*.py")):
        with open(path) as f:
            tree = ast.parse(f.read())
        imported = [node.module for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module]
        imported += [a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                     for a in node.names]
        outside = [m for m in imported
                   if m.startswith("gan_jax") and not m.startswith("gan_jax.config")]
        assert not outside, (path, outside)


def test_missing_key_is_reported():
    config = mog.get_config()
    del config.train["n_disc"]
    with pytest.raises(ConfigError, match=r"missing config key train.'n_disc'"):
        config_lib.validate(config)


def test_with_seed_keeps_or_draws_a_seed():
    config = mog.get_config()
    assert config.seed is None
    drawn = config_lib.with_seed(config)
    assert isinstance(drawn.seed, int) and 0 <= drawn.seed < 2**31
    assert config_lib.with_seed(config, 7).seed == 7
    config.seed = 3
    assert config_lib.with_seed(config, 7).seed == 3


def test_json_round_trip_preserves_the_config():
    config = config_lib.with_seed(mog.get_config("grid"), 5)
    restored = config_lib.from_json(config_lib.to_json(config))
    config_lib.validate(restored)
    assert restored.to_dict() == config.to_dict()


def test_resume_conflicts_allow_only_schedule_of_outputs_to_change():
    saved = config_lib.with_seed(mog.get_config(), 1)
    new = ConfigDict(saved.to_dict())
    new.train.num_steps = 99_999
    new.train.log_every = 7
    assert config_lib.resume_conflicts(saved, new) == []
    new.optim.d.lr = 5e-5
    new.seed = 2
    conflicts = config_lib.resume_conflicts(saved, new)
    assert len(conflicts) == 2
    assert conflicts[0].startswith("optim.d.lr: saved 0.001, now 5e-05")
    assert conflicts[1] == "seed: saved 1, now 2"


def test_a_saved_config_with_tuples_resumes_under_the_file_it_came_from():
    # JSON stores a model section's tuples as lists: the same config file must still resume.
    config = config_lib.with_seed(
        config_lib.load_config_file("configs/sngan_fashion_mnist.py", relative_to=REPO), 1)
    saved = config_lib.from_json(config_lib.to_json(config))
    assert saved.model.discriminator.multipliers == (1, 1, 1, 1)
    assert config_lib.resume_conflicts(saved, config) == []
    listed = ConfigDict(config.to_dict())  # A list from elsewhere compares equal too.
    listed.model.discriminator.multipliers = [1, 1, 1, 1]
    assert config_lib.resume_conflicts(saved, listed) == []
    # A free-form key added since the run was saved resumes at its off value only.
    listed.data.image_width = 0
    assert config_lib.resume_conflicts(saved, listed) == []
    listed.data.image_width = 64
    assert config_lib.resume_conflicts(saved, listed) == [
        "data.image_width: saved None, now 64"]
    config.model.discriminator.multipliers = (1, 1, 2, 2)
    assert config_lib.resume_conflicts(saved, config) == [
        "model.discriminator.multipliers: saved (1, 1, 1, 1), now (1, 1, 2, 2)"]


@pytest.mark.parametrize("spec", ["mog.py:ring,rpgan", "mog.py:grid,rpgan",
                                  "dcgan_mnist.py:fashion_mnist,10%,ada,lecam",
                                  "dcgan_mnist.py:fashion_mnist,2%,apa,diffaugment",
                                  "dcgan_mnist.py:mnist,rpgan,freezed"])
def test_recipes_are_config_variants_that_validate(spec):
    config = config_lib.load_config_file(f"configs/{spec}", relative_to=REPO)
    validate(config)
    names = spec.split(":")[1].split(",")[1:]
    if "rpgan" in names:
        assert config.loss.name == "rpgan" and config.loss.r1_weight == config.loss.r2_weight > 0
    if "10%" in names:
        assert config.data.split == "train[:10%]"
    if "ada" in names:
        assert (config.ada.pipeline, config.ada.target) == ("bgc", 0.6)


def test_an_unknown_recipe_is_one_line():
    with pytest.raises(ConfigError, match=r"unknown recipe 'adaa'; known: rpgan, diffaugment"):
        config_lib.load_config_file("configs/mog.py:ring,adaa", relative_to=REPO)


def test_the_grid_trains_the_relativistic_objective_and_plain_drops_it():
    grid = mog.get_config("grid")
    assert (grid.loss.name, grid.loss.r1_weight, grid.loss.r2_weight) == (
        "rpgan", mog.RPGAN_GAMMA, mog.RPGAN_GAMMA)
    plain = mog.get_config("grid,plain")
    assert (plain.loss.name, plain.loss.r1_weight, plain.loss.r2_weight) == (
        "non_saturating", 0.0, 0.0)
    assert mog.get_config("ring").loss.name == "non_saturating"
    # Apart from the objective, the two grid configs are the same experiment.
    for config in (grid, plain):
        config.loss = base_config().loss
    assert grid.to_dict() == plain.to_dict()
