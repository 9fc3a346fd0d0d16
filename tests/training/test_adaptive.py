"""ADA's and APA's probability: the controller's rule, its place in the train state, exact
resume, and the same p and LeCam anchors on every device."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax.config import ConfigError
from gan_jax.runs.loop import train_and_evaluate
from gan_jax.training import adaptive, checks
from gan_jax.training.experiment import build_experiment
from tests.helpers import assert_states_identical, load_state, tiny_image_config
from tests.training.test_parallel import pmap_against_jit


def test_the_controller_follows_the_published_rule_on_scripted_signs():
    # Batch 10, every 2 steps, 1 kimg to cross [0, 1]: each adjustment is +-10 * 2 / 1000.
    c = adaptive.Controller("ada", p=0.5, target=0.6, interval=2, kimg=1.0, batch_size=10)
    state = c.initial_state()
    scripted = [  # Real logits of each step's D update, and p after the step.
        (jnp.array([1.0, 1.0, 1.0, -1.0]), 0.5),  # r = 0.5 so far: no adjustment yet.
        (jnp.array([1.0, 1.0, 1.0, 1.0]), 0.52),  # mean r = 0.75 > 0.6: up by 0.02.
        (jnp.array([-1.0, -1.0, 1.0, 1.0]), 0.52),
        (jnp.array([1.0, -1.0, 1.0, 1.0]), 0.50),  # mean r = 0.25 < 0.6: down.
    ]
    for step, (logits, p) in enumerate(scripted):
        state = c.observe(state, logits, lambda v: v)
        state = c.adjust(state, jnp.int32(step))
        assert float(state["p"]) == pytest.approx(p, abs=1e-6), step
    # Clipped to [0, 1): far below the target, p stays at 0; far above, just under 1.
    low = {"p": jnp.float32(0.01), "signs": jnp.float32(-2.0), "count": jnp.float32(2.0)}
    assert float(c.adjust(low, jnp.int32(1))["p"]) == 0.0
    high = {"p": jnp.float32(0.999), "signs": jnp.float32(2.0), "count": jnp.float32(2.0)}
    assert 0.999 < float(c.adjust(high, jnp.int32(1))["p"]) < 1.0


def test_a_fixed_p_follows_its_schedule_and_keeps_no_state():
    c = adaptive.Controller("apa", p=0.25, schedule=lambda step: 0.1 * step)
    assert c.initial_state() is None
    assert float(c.value(None, jnp.int32(3))) == pytest.approx(0.3)
    assert float(adaptive.Controller("apa", p=0.25).value(None, jnp.int32(3))) == 0.25


def test_deceiving_replaces_exactly_the_chosen_rows():
    real, pseudo = jnp.zeros((4, 2, 2, 1)), jnp.ones((4, 2, 2, 1))
    out = adaptive.deceive(real, pseudo, jnp.array([True, False, False, True]))
    np.testing.assert_array_equal(out[:, 0, 0, 0], [1.0, 0.0, 0.0, 1.0])


def adaptive_config(folder, num_steps):
    """ADA (bgc, adaptive), APA (adaptive), LeCam, lazy R1 + R2 with a cosine gamma schedule,
    and an EMA half-life with a ramp: every piece of adaptive state a resume must keep."""
    config = tiny_image_config(folder, num_steps=num_steps)
    config.ada.update(dict(pipeline="bgc", p=0.3, target=0.6, interval=2, kimg=1.0))
    config.apa.update(dict(p=0.2, target=0.6, interval=2, kimg=1.0))
    config.loss.update(dict(lecam_weight=0.1, r1_weight=1.0, r2_weight=1.0, r1_interval=2))
    # A fixed horizon: with steps=0 the ramp would span each call's own train.num_steps.
    config.schedules.r1_weight.update(dict(shape="cosine", end=0.1, steps=8))
    config.train.update(dict(ema_half_life=100.0, ema_rampup=0.05, steps_per_call=1,
                             sample_every=0))
    return config


def test_adaptive_state_moves_is_logged_and_resumes_exactly(image_folder, tmp_path):
    straight = str(tmp_path / "straight")
    train_and_evaluate(adaptive_config(image_folder, 12), straight)
    final = load_state(straight)
    assert set(final.d_state) == {"ada", "apa", "lecam"}
    # p moved from 0.3 in steps of 8 * 2 / 1000, and it is what the metrics log.
    p = float(final.d_state["ada"]["p"])
    assert p != pytest.approx(0.3) and abs(p - 0.3) <= 6 * 0.016 + 1e-6
    assert float(final.d_state["lecam"]["real"]) != 0.0
    with open(os.path.join(straight, "metrics.jsonl")) as f:
        logged = [json.loads(line) for line in f]
    assert {"ada_p", "apa_p", "d_real_sign", "d_lecam_real_anchor"} <= set(logged[-1])
    resumed = str(tmp_path / "resumed")
    train_and_evaluate(adaptive_config(image_folder, 5), resumed)
    train_and_evaluate(adaptive_config(image_folder, 12), resumed)
    assert_states_identical(final, load_state(resumed))


def test_p_and_the_lecam_anchors_are_the_same_on_four_devices_as_on_one(image_folder,
                                                                          tmp_path):
    config = adaptive_config(image_folder, 3)
    config.ada.interval = config.apa.interval = 1
    for player in (config.optim.g, config.optim.d):
        player.name, player.lr = "sgd", 0.01  # As the other pmap tests (test_parallel).
    # The subprocess asserts every replica holds the same state, p and anchors included.
    assert pmap_against_jit(config, tmp_path, 4) < 1e-4


@pytest.mark.parametrize("key, value, message", [
    ("ada.target", 1.0, r"ada.target: must be in \(0, 1\)"),
    ("ada.p", -0.1, r"ada.p: must be in \[0, 1\)"),
    ("ada.pipeline", "bgc,sheer", r"ada.pipeline: unknown transform 'sheer'"),
])
def test_bad_augmentation_settings_get_one_line(image_folder, key, value, message):
    config = config_lib.with_seed(tiny_image_config(image_folder), 0)
    config.ada.pipeline = "bgc"
    config = config_lib.apply_overrides(config, {key: value})
    with pytest.raises(ConfigError, match=message):
        checks.validate(config)
        build_experiment(config)


def test_an_ada_target_without_transforms_is_refused(make_config):
    config = make_config()
    config.ada.target = 0.6
    with pytest.raises(ConfigError, match="ada.target: adapts the probability of "
                                          "ada.pipeline's transforms, which is ''"):
        checks.validate(config)


def test_the_pipeline_at_p0_leaves_training_unchanged(image_folder):
    """ADA with p fixed at 0 draws its parameters but changes nothing D sees."""
    states = []
    for pipeline in ("", "bgc"):
        config = config_lib.with_seed(tiny_image_config(image_folder), 0)
        config.ada.pipeline = pipeline
        experiment = build_experiment(config)
        state, data = experiment.init_state(), experiment.device_data()
        states.append(jax.jit(experiment.train_step())(state, data)[0])
    for a, b in zip(jax.tree.leaves(states[0]), jax.tree.leaves(states[1]), strict=True):
        np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                                   rtol=1e-5, atol=1e-6)
