"""Fine-tuning from another run (train.init_from) and FreezeD (train.freeze_d)."""

import jax
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax.config import ConfigError
from gan_jax.runs import finetune
from gan_jax.runs.loop import train_and_evaluate
from gan_jax.training.experiment import build_experiment
from tests.helpers import load_state


@pytest.fixture(scope="module")
def source_run(tmp_path_factory):
    from tests.helpers import tiny_config

    workdir = str(tmp_path_factory.mktemp("source") / "run")
    train_and_evaluate(tiny_config(num_steps=30), workdir)
    return workdir


def _equal(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_init_from_restores_exactly_the_weights_it_names(source_run, make_config, tmp_path):
    saved = load_state(source_run)
    config = config_lib.with_seed(make_config(num_steps=5), 7)  # Another seed, same model.
    config.loss.lecam_weight = 0.1  # Its running state starts afresh.
    fresh = build_experiment(config).init_state()
    state = finetune.initial_weights(source_run, fresh)
    for key in ("g_params", "d_params", "ema_g_params"):
        _equal(getattr(state, key), getattr(saved, key))
    _equal(state.g_opt_state, fresh.g_opt_state)  # Fresh optimizer states by default.
    _equal(state.d_state["lecam"], fresh.d_state["lecam"])
    assert int(state.step) == 0
    with_optimizer = finetune.initial_weights(f"{source_run}/checkpoints/30", fresh, True)
    _equal(with_optimizer.d_opt_state, saved.d_opt_state)


def test_a_run_started_from_another_keeps_its_weights_at_zero_learning_rate(
        source_run, make_config, tmp_path):
    config = make_config(num_steps=3)
    config.train.init_from = source_run
    for player in (config.optim.g, config.optim.d):
        player.lr = 0.0
    workdir = str(tmp_path / "finetuned")
    train_and_evaluate(config, workdir)
    final, saved = load_state(workdir), load_state(source_run)
    _equal(final.g_params, saved.g_params)
    _equal(final.d_params, saved.d_params)
    assert int(final.step) == 3


def test_init_from_an_incompatible_run_names_the_arrays(source_run, make_config):
    config = config_lib.with_seed(make_config(), 0)
    config.model.generator.hidden_dim = 48
    fresh = build_experiment(config).init_state()
    with pytest.raises(ConfigError, match=r"train.init_from: the run in .* \(step 30\) does not "
                                          r"fit this model: ema_g_params/Dense_0/bias is \(32,\) "
                                          r"there and \(48,\) here"):
        finetune.initial_weights(source_run, fresh)
    with pytest.raises(ConfigError, match="train.init_from: no checkpoint in"):
        finetune.initial_weights(source_run + "/samples", fresh)


def test_freeze_d_keeps_the_first_blocks_unchanged(make_config):
    config = config_lib.with_seed(make_config(), 0)
    config.train.freeze_d = 1
    experiment = build_experiment(config)
    state = experiment.init_state()
    step = jax.jit(experiment.train_step())
    new = state
    for _ in range(3):
        new, _ = step(new, {})
    first, *rest = list(state.d_params)
    _equal(new.d_params[first], state.d_params[first])
    for name in rest:
        assert not np.array_equal(np.asarray(new.d_params[name]["kernel"]),
                                  np.asarray(state.d_params[name]["kernel"]))
    config.train.freeze_d = 9
    with pytest.raises(ConfigError, match=r"train.freeze_d: 9 blocks, but the discriminator "
                                          r"has 3 parameter modules"):
        build_experiment(config).init_state()
