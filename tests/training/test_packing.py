"""PacGAN packing: the layout of packs, D's input, and exact resume with packed penalties."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax.config.registry import ConfigError
from gan_jax.runs.loop import train_and_evaluate
from gan_jax.training.experiment import build_experiment
from gan_jax.training.packing import pack, packed_shape, unpack
from gan_jax.training.update import apply_model
from tests.helpers import assert_states_identical, load_state


def test_packs_concatenate_consecutive_examples_along_the_last_axis():
    vectors = jnp.arange(6 * 2, dtype=jnp.float32).reshape(6, 2)
    packed = pack(vectors, 3)
    assert packed.shape == (2, 6)
    np.testing.assert_array_equal(packed[1], np.concatenate(np.asarray(vectors[3:6])))

    images = jax.random.normal(jax.random.PRNGKey(0), (4, 5, 3, 2))
    packed = pack(images, 2)
    assert packed.shape == (2, 5, 3, 4) == (2, *packed_shape((5, 3, 2), 2))
    np.testing.assert_array_equal(packed[1, ..., :2], images[2])  # Channels of example 2,
    np.testing.assert_array_equal(packed[1, ..., 2:], images[3])  # then of example 3.
    np.testing.assert_array_equal(unpack(packed, 2), images)
    assert pack(images, 1) is images and unpack(images, 1) is images


def test_a_packed_discriminator_reads_m_samples_and_one_is_unpacked(make_config):
    """With m = 2, D's first layer takes 2 x 2 features and scores each pair as the MLP would
    score the two points side by side; with m = 1, D reads single points."""
    states = {}
    for m in (1, 2):
        config = make_config()
        config.model.packing = m
        exp = build_experiment(config_lib.with_seed(config, 0))
        states[m] = exp.init_state()
        first = jax.tree.leaves(states[m].d_params)
        assert {leaf.shape[0] for leaf in first if leaf.ndim == 2} >= {2 * m}
    d_params = states[2].d_params
    points = jax.random.normal(jax.random.PRNGKey(1), (8, 2))
    by_pack, _ = apply_model(exp.discriminator, d_params, {}, pack(points, 2), True)
    side_by_side = np.concatenate([points[0::2], points[1::2]], axis=1)
    by_hand, _ = apply_model(exp.discriminator, d_params, {}, side_by_side, True)
    assert by_pack.shape == (4,)
    np.testing.assert_array_equal(by_pack, by_hand)


def test_packed_run_with_a_penalty_on_packs_resumes_exactly(make_config, tmp_path):
    def config(num_steps):
        c = make_config(num_steps=num_steps)
        c.model.packing = 4
        c.loss.gp_weight = 1.0
        c.train.update(dict(steps_per_call=10, sample_every=0))
        return c

    straight, resumed = str(tmp_path / "straight"), str(tmp_path / "resumed")
    train_and_evaluate(config(40), straight)
    train_and_evaluate(config(20), resumed)
    train_and_evaluate(config(40), resumed)
    final = load_state(straight)
    assert np.isfinite(np.asarray(jax.tree.leaves(final.d_params)[0])).all()
    assert_states_identical(final, load_state(resumed))


def test_packing_refuses_labels_and_batches_it_cannot_split():
    from tests.helpers import tiny_conditional_config

    config = tiny_conditional_config()
    config.model.packing = 2
    with pytest.raises(ConfigError, match=r"model.packing: 2 packs unconditional samples; it "
                                          r"cannot be combined with model.condition='class'"):
        build_experiment(config_lib.with_seed(config, 0))
