"""Schedules of the training scalars: their shapes, and each scalar that follows one."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax.config import ConfigError
from gan_jax.training import checks, schedules
from gan_jax.training.experiment import build_experiment
from gan_jax.training.state import ema_decay_at
from gan_jax.training.update import UpdateSettings, ema_decay


def test_ramps_warm_up_move_along_their_shape_and_hold():
    linear = schedules.Ramp(2.0, 1.0, "linear", steps=10, warmup=0)
    np.testing.assert_allclose(linear(jnp.array([0, 5, 10, 50])), [2.0, 1.5, 1.0, 1.0])
    cosine = schedules.Ramp(0.0, 0.55, "cosine", steps=4)
    np.testing.assert_allclose(cosine(jnp.array([0, 1, 2, 4, 9])),
                               0.55 * (1 - np.cos(np.pi * np.array([0, .25, .5, 1, 1]))) / 2,
                               rtol=1e-6, atol=1e-7)
    warm = schedules.Ramp(3.0, shape="constant", warmup=4)
    np.testing.assert_allclose(warm(jnp.array([0, 2, 4, 8])), [0.0, 1.5, 3.0, 3.0])


def test_a_schedule_entry_spans_the_rest_of_the_run_by_default(make_config):
    config = make_config(num_steps=100)
    config.loss.r1_weight = 1.0
    config.schedules.r1_weight.update(dict(shape="linear", end=0.0, warmup_steps=20))
    ramp = schedules.configured(config, "r1_weight")
    assert (ramp.start, ramp.end, ramp.steps, ramp.warmup) == (1.0, 0.0, 80, 20)
    assert schedules.configured(make_config(), "r1_weight") is None  # Off by default.


@pytest.mark.parametrize("key, value, message", [
    ("schedules.r1_weight.shape", "cosin", r"schedules.r1_weight.shape: must be one of "
                                           r"constant, linear, cosine"),
    ("schedules.ada_p.steps", -1, r"schedules.ada_p.steps: must be >= 0"),
    ("schedules.ema_half_life.shape", "linear", r"schedules.ema_half_life: schedules "
                                                r"train.ema_half_life, which is 0"),
])
def test_bad_schedules_get_one_line(make_config, key, value, message):
    config = config_lib.apply_overrides(make_config(), {key: value})
    with pytest.raises(ConfigError, match=message):
        checks.validate(config)


def test_a_scheduled_penalty_weight_is_its_value_at_each_step(make_config):
    config = config_lib.with_seed(make_config(), 0)
    config.loss.r1_weight = 1.0
    experiment = build_experiment(config)
    state = experiment.init_state()
    constant = float(jax.jit(experiment.train_step())(state, {})[1]["d_penalty"])
    config.schedules.r1_weight.update(dict(shape="linear", end=0.0, steps=4, warmup_steps=0))
    step = jax.jit(build_experiment(config).train_step())
    assert float(step(state, {})[1]["d_penalty"]) == pytest.approx(constant, rel=1e-6)
    halfway = state.replace(step=jnp.int32(2))
    assert float(step(halfway, {})[1]["d_penalty"]) == pytest.approx(
        0.5 * float(jax.jit(experiment.train_step())(halfway, {})[1]["d_penalty"]), rel=1e-5)
    # A weight that only its schedule turns on still makes the row active.
    config.loss.r1_weight = 0.0
    config.schedules.r1_weight.update(dict(shape="constant", warmup_steps=4))
    assert [p.row.name for p in build_experiment(config).settings.d_penalties] == ["r1"]


def test_adam_beta2_follows_its_schedule(make_config):
    config = config_lib.with_seed(make_config(), 0)
    config.optim.g.b2 = 0.9
    config.schedules.g_b2.update(dict(shape="linear", end=0.99, steps=10))
    experiment = build_experiment(config)
    state = experiment.init_state()
    step = jax.jit(experiment.train_step())
    for _ in range(5):
        state, _ = step(state, {})
    # optax counts its own updates from 0: the 5th used the schedule's value at 4.
    assert float(state.g_opt_state.hyperparams["b2"]) == pytest.approx(0.936, abs=1e-6)
    config.optim.g.name = "sgd"
    with pytest.raises(ConfigError, match="schedules.g_b2: schedules Adam's beta2, but "
                                          "optim.g.name is 'sgd'"):
        build_experiment(config)


def test_the_ema_half_life_in_images_gives_stylegan2_adas_decay():
    settings = UpdateSettings(batch_size=64, n_disc=1, ema_decay=0.999, ema_half_life=10_000.0)
    assert float(ema_decay(settings, jnp.int32(100))) == pytest.approx(0.5 ** (64 / 10_000))
    # With the ramp, the half-life is at most 5 % of the images seen, as ema_decay_at says.
    ramped = UpdateSettings(batch_size=64, n_disc=1, ema_decay=0.999, ema_half_life=10_000.0,
                            ema_rampup=0.05)
    assert float(ema_decay(ramped, jnp.int32(10))) == pytest.approx(
        float(ema_decay_at(10, 0.5 ** (64 / 10_000), 0.05)))
    half_life = schedules.Ramp(1_000.0, 9_000.0, "linear", steps=8)
    scheduled = UpdateSettings(batch_size=64, n_disc=1, ema_decay=0.999, ema_half_life=1_000.0,
                               ema_half_life_schedule=half_life)
    assert float(ema_decay(scheduled, jnp.int32(4))) == pytest.approx(0.5 ** (64 / 5_000),
                                                                      rel=1e-6)
