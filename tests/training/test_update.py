"""Gradient accumulation: micro-batches against the large batch they split."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax.config.registry import ConfigError
from gan_jax.training.experiment import build_experiment
from gan_jax.training.update import accumulate, merged_mean, merged_rows
from tests.helpers import tiny_conditional_config, tiny_stylegan_config
from tests.training.test_parallel import max_relative_difference, train_on_devices


def _train(config, grad_accum: int, num_steps: int = 3):
    """(the state after `num_steps` jitted steps with `grad_accum` micro-batches, the last
    step's metrics)."""
    config = config.copy_and_resolve_references()
    config.train.grad_accum = grad_accum
    experiment = build_experiment(config_lib.with_seed(config, 0))
    step = jax.jit(experiment.train_step())
    state, data = experiment.init_state(), experiment.device_data()
    for _ in range(num_steps):
        state, metrics = step(state, data)
    return state, metrics


def _sgd(config):
    """Plain SGD: Adam's first updates divide by tiny gradient magnitudes, which would turn the
    summation-order noise of accumulation into differences of the learning rate's size."""
    for player in (config.optim.g, config.optim.d):
        player.name, player.lr = "sgd", 0.01
    return config


def test_accumulate_averages_micro_batch_gradients_and_stacks_their_extras():
    x = jnp.arange(12.0).reshape(6, 2)

    def fn(micro):
        rows = x if micro is None else jax.lax.dynamic_slice_in_dim(x, micro * 2, 2)
        return jax.grad(lambda w: jnp.mean(rows @ w))(jnp.ones(2)), {"rows": rows}

    whole, whole_extras = accumulate(fn, 1)
    grads, extras = accumulate(fn, 3)
    np.testing.assert_allclose(grads, whole, rtol=1e-6)
    np.testing.assert_array_equal(merged_rows(extras, 3)["rows"], x)
    np.testing.assert_array_equal(merged_rows(whole_extras, 1)["rows"], x)
    stacked = {"mean": jnp.array([1.0, 2.0, 6.0]), "count": jnp.array([1, 2, 3])}
    merged = merged_mean(stacked, 3)
    assert float(merged["mean"]) == 3.0 and int(merged["count"]) == 3  # Counters: the last.


@pytest.mark.parametrize("grad_accum", [2, 4])
def test_micro_batches_give_the_large_batch_update_of_a_norm_free_model(make_config,
                                                                        grad_accum):
    """The relativistic pairing loss with R1 + R2 and two D updates per G update, on an MLP:
    three steps with 64 examples in 2 or 4 micro-batches give the 64-example steps, to float32
    summation order."""
    config = _sgd(make_config())
    config.loss.name = "rpgan"
    config.loss.update(dict(r1_weight=0.5, r2_weight=0.5))
    config.train.n_disc = 2
    whole, whole_metrics = _train(config, 1)
    split, split_metrics = _train(config, grad_accum)
    assert max_relative_difference(whole, split) < 1e-5
    for name in ("d_loss", "d_penalty", "d_real_logit", "g_loss", "d_grad_norm", "g_grad_norm"):
        np.testing.assert_allclose(split_metrics[name], whole_metrics[name], rtol=1e-5,
                                   atol=1e-7, err_msg=name)
    # And the update is not the same whatever it is given: half the batch differs.
    config.train.batch_size = 32
    assert max_relative_difference(whole, _train(config, 1)[0]) > 1e-3


def test_class_conditional_micro_batches_keep_each_example_with_its_label():
    config = _sgd(tiny_conditional_config())
    config.model.fake_labels = "real"  # G's labels then come from the real batch's rows.
    whole, _ = _train(config, 1)
    assert max_relative_difference(whole, _train(config, 2)[0]) < 1e-5


def test_stylegan2_with_adaptive_augmentation_accumulates_exactly(image_folder):
    """Per-example noise and style mixing, minibatch-stddev groups of 4, lazy R1, and ADA
    whose p moves by the sign of D's real logits over the whole batch: 8 examples as 2
    micro-batches of 4 give the 8-example steps, p included."""
    config = _sgd(tiny_stylegan_config(image_folder))
    config.loss.pl_weight = 0.0  # Path length reads a batch mean: see the test below.
    config.ada.update(dict(pipeline="blit,color", p=0.3, target=0.6, interval=1, kimg=0.01))
    whole, _ = _train(config, 1, num_steps=4)
    split, _ = _train(config, 2, num_steps=4)
    assert max_relative_difference(whole, split) < 1e-5
    assert float(whole.d_state["ada"]["p"]) != 0.3  # p did move, and moved alike.
    np.testing.assert_allclose(split.d_state["ada"]["p"], whole.d_state["ada"]["p"],
                               rtol=1e-6)


def test_running_regulariser_states_average_to_the_large_batch_state(make_config,
                                                                     image_folder):
    """LeCam's anchors and path length's mean move by the batch mean; the micro-batches'
    moved states average to the large batch's (after one update, from the same weights)."""
    config = _sgd(make_config())
    config.loss.update(dict(lecam_weight=0.3, lecam_decay=0.9))
    whole, _ = _train(config, 1, num_steps=1)
    split, _ = _train(config, 4, num_steps=1)
    for name in ("real", "fake"):
        assert float(whole.d_state["lecam"][name]) != 0.0
        np.testing.assert_allclose(split.d_state["lecam"][name], whole.d_state["lecam"][name],
                                   rtol=1e-5)
    config = _sgd(tiny_stylegan_config(image_folder))
    config.loss.pl_interval = 1
    whole, _ = _train(config, 1, num_steps=1)
    split, _ = _train(config, 2, num_steps=1)
    lengths = [jax.tree.leaves(s.g_state["path_length"]) for s in (whole, split)]
    assert float(lengths[0][0]) != 0.0
    np.testing.assert_allclose(lengths[1], lengths[0], rtol=1e-5)


def test_batch_norm_micro_batches_are_per_device_batch_norm(image_folder, tmp_path):
    """BatchNorm normalises each micro-batch alone and its running statistics average over
    them, as per-device BatchNorm does over devices: 4 micro-batches of 2 examples on one
    device give what 2 devices with per-device BatchNorm, each accumulating 2 micro-batches,
    give (device d's micro-batch m is the one-device micro-batch 2d + m)."""
    from tests.helpers import tiny_image_config

    config = _sgd(tiny_image_config(image_folder, num_steps=2))
    config.train.steps_per_call = 1
    config.train.sample_every = 0
    config.train.checkpoint_every = 2
    config.eval.num_samples = 8
    config.train.parallel = "pmap"
    config.train.batch_norm = "per_device"
    config.train.grad_accum = 2
    done = train_on_devices(config, str(tmp_path / "pmap"), 2)
    assert done.returncode == 0, done.stderr[-3000:]
    from gan_jax.runs.loop import train_and_evaluate
    from tests.helpers import load_state

    config.train.parallel = "jit"
    config.train.grad_accum = 4
    train_and_evaluate(config, str(tmp_path / "accumulated"))
    pmapped, accumulated = (load_state(str(tmp_path / name)) for name in ("pmap",
                                                                          "accumulated"))
    assert "batch_stats" in accumulated.g_state
    assert max_relative_difference(pmapped, accumulated) < 1e-5
    # Statistics over the whole batch of 8 are another update.
    config.train.grad_accum = 1
    train_and_evaluate(config, str(tmp_path / "whole"))
    assert max_relative_difference(load_state(str(tmp_path / "whole")), accumulated) > 1e-4


@pytest.mark.parametrize("change, message", [
    (dict(batch_size=60, grad_accum=8), "train.batch_size=60 .60 examples. does not divide "
                                        "into 8 micro-batches"),
    (dict(grad_accum=2, unroll_steps=2), "unrolled D updates need the whole batch"),
])
def test_accumulation_that_cannot_split_the_batch_is_refused(make_config, change, message):
    config = make_config()
    config.train.update(change)
    with pytest.raises(ConfigError, match=message):
        build_experiment(config_lib.with_seed(config, 0))


def test_grad_accum_must_be_positive(make_config):
    config = make_config()
    config.train.grad_accum = 0
    with pytest.raises(ConfigError, match="train.grad_accum: must be >= 1, got 0"):
        config_lib.validate(config)


def test_micro_batches_must_hold_whole_packs(make_config):
    config = make_config()
    config.model.packing = 4
    config.train.update(dict(batch_size=64, grad_accum=32))
    with pytest.raises(ConfigError, match="micro-batches of 2 examples do not divide into "
                                          "packs of model.packing=4"):
        build_experiment(config_lib.with_seed(config, 0))
