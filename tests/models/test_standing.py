"""Standing statistics: batch statistics recovered from any momentum, averaged over batches;
the EMA generator gets them and nothing else changes."""

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from gan_jax.models.standing import batch_statistics, standing_statistics
from gan_jax.training.experiment import build_experiment


class DenseThenNorms(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool = True):
        h = nn.Dense(3, name="dense")(x)
        slow = nn.BatchNorm(use_running_average=not train, momentum=0.99, name="slow")(h)
        return nn.BatchNorm(use_running_average=not train, momentum=0.9, name="fast")(2.0 * h
                                                                                        + slow)


def test_batch_statistics_are_the_batch_moments_whatever_the_momentum():
    module = DenseThenNorms()
    variables = module.init(jax.random.PRNGKey(0), jnp.zeros((1, 4)), train=False)
    params, state = variables["params"], {"batch_stats": variables["batch_stats"]}
    batches = [jax.random.normal(jax.random.PRNGKey(i), (32, 4)) * (i + 1) for i in range(1, 3)]
    dense = [b @ params["dense"]["kernel"] + params["dense"]["bias"] for b in batches]

    stats = batch_statistics(module, params, state, batches[0])
    np.testing.assert_allclose(stats["slow"]["mean"], dense[0].mean(0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(stats["slow"]["var"], dense[0].var(0), rtol=1e-4, atol=1e-5)

    standing = standing_statistics(lambda b: batch_statistics(module, params, state, b), batches)
    np.testing.assert_allclose(standing["slow"]["mean"],
                               (dense[0].mean(0) + dense[1].mean(0)) / 2, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(standing["slow"]["var"],
                               (dense[0].var(0) + dense[1].var(0)) / 2, rtol=1e-4, atol=1e-5)


def test_standing_statistics_change_only_the_ema_generators_batch_norm_and_are_seeded(
        image_folder):
    from tests.helpers import tiny_image_config

    def generators(seed, standing):
        config = tiny_image_config(image_folder, seed=seed)
        config.eval.standing_stats = standing
        exp = build_experiment(config)
        state = exp.init_state()
        return state, exp.generators(state)

    state, plain = generators(0, 0)
    assert plain["ema"][1] is state.g_state
    state, standing = generators(0, 2)
    _, again = generators(0, 2)
    _, other_seed = generators(1, 2)
    raw_params, raw_state = standing["raw"]
    ema_params, ema_state = standing["ema"]
    assert raw_params is state.g_params and raw_state is state.g_state
    assert ema_params is state.ema_g_params
    leaves = jax.tree.leaves
    assert all(not np.allclose(a, b) for a, b in zip(
        leaves(ema_state["batch_stats"]), leaves(state.g_state["batch_stats"]), strict=True))
    for a, b in zip(leaves(ema_state), leaves(again["ema"][1]), strict=True):
        np.testing.assert_array_equal(a, b)  # Seeded: the same numbers again.
    assert any(not np.array_equal(a, b) for a, b in zip(
        leaves(ema_state), leaves(other_seed["ema"][1]), strict=True))
