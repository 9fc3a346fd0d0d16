import os
import subprocess
import sys
import textwrap

import pytest

from gan_jax import config as config_lib
from gan_jax.config import ConfigError
from gan_jax.config.registry import Registry, import_modules
from gan_jax.training.experiment import build_experiment

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
USER_MODELS = textwrap.dedent('''
    from gan_jax.models import GENERATORS
    from gan_jax.models.mlp import MLPGenerator

    @GENERATORS.register("{name}")
    class UserGenerator(MLPGenerator):
        """An MLP generator registered from a user's own file."""
''')


def test_registry_names_the_key_and_the_closest_name():
    registry = Registry("widget")
    registry.register("spectral")(object())
    with pytest.raises(ConfigError, match=r"model.thing: unknown widget 'spectrall'; did you "
                                          r"mean 'spectral'\? \(known: spectral\)"):
        registry.get("spectrall", key="model.thing")


def test_a_model_in_a_users_file_is_built_from_config_imports(tmp_path, make_config):
    path = tmp_path / "my_models.py"
    path.write_text(USER_MODELS.format(name="user_file_generator"))
    config = config_lib.with_seed(make_config(), 0)
    config.model.generator.name = "user_file_generator"
    with pytest.raises(ConfigError, match="unknown generator 'user_file_generator'"):
        build_experiment(config)
    config.imports = str(path)
    experiment = build_experiment(config)
    assert type(experiment.generator).__name__ == "UserGenerator"
    build_experiment(config)  # Imported once per process: no second registration.


def test_unknown_imports_are_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="imports: cannot import module 'no_such_module_x'"):
        import_modules("no_such_module_x")
    with pytest.raises(ConfigError, match="imports: no such file"):
        import_modules(str(tmp_path / "missing.py"))


def test_imports_reach_every_command_that_reloads_the_run(tmp_path):
    # Trained in one process, sampled in another: the run's config.json carries the import, so
    # the registration runs wherever the run is loaded.
    models = tmp_path / "my_models.py"
    models.write_text(USER_MODELS.format(name="user_cli_generator"))
    workdir = tmp_path / "run"
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    train = subprocess.run(
        [sys.executable, os.path.join(REPO, "scripts", "train.py"), "--config",
         os.path.join(REPO, "configs", "mog.py"),
         "--workdir", str(workdir), "--config.imports=my_models.py",
         "--config.model.generator.name=user_cli_generator", "--config.train.num_steps=4",
         "--config.train.steps_per_call=2", "--config.train.batch_size=16",
         "--config.eval.num_samples=64", "--config.train.progress_bar=False"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert train.returncode == 0, train.stderr[-2000:]
    assert f'"imports": "{models}"' in (workdir / "config.json").read_text()
    sample = subprocess.run(
        [sys.executable, os.path.join(REPO, "scripts", "sample.py"), "--workdir", str(workdir),
         "--num", "8",
         "--out", str(tmp_path / "points.png")],
        capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert sample.returncode == 0, sample.stderr[-2000:]
    assert (tmp_path / "points.png").exists()
