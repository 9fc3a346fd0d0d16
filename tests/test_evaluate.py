"""Loading a run's saved config for evaluation."""

import json

from gan_jax.config import base_config, to_json
from gan_jax.evaluate import load_run_config


def test_config_saved_by_older_version_gets_new_keys_with_defaults(tmp_path, make_config):
    saved = json.loads(to_json(make_config()))
    del saved["eval"]["metrics"], saved["eval"]["cache_dir"]
    (tmp_path / "config.json").write_text(json.dumps(saved))
    config = load_run_config(str(tmp_path))
    assert config.eval.metrics == base_config().eval.metrics
    assert config.eval.cache_dir == ""
    assert config.model.generator.hidden_dim == 32  # Saved values are kept.
    assert "output_shape" not in config.model.generator  # Free-form sections get nothing.


def test_a_run_started_by_an_older_version_resumes(tmp_path, make_config):
    from gan_jax.train import prepare_workdir

    saved = json.loads(to_json(make_config()))
    del saved["train"]["num_seeds"]  # A key added after the run started.
    (tmp_path / "config.json").write_text(json.dumps(saved))
    resumed = prepare_workdir(make_config(), str(tmp_path))
    assert resumed.train.num_seeds == 1
