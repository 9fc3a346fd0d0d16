import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gan_jax.config import optimizer_config
from gan_jax.training import optim


def _lr_after(tx, updates, num):
    """The effective learning rate of SGD after `num` updates of gradient 1."""
    params = jnp.zeros(())
    state = tx.init(params)
    for _ in range(num):
        step, state = tx.update(jnp.ones(()), state, params)
    return -float(step)


@pytest.mark.parametrize("schedule,expected", [
    ("constant", [0.1, 0.1, 0.1]),
    ("linear", [0.1, 0.05, 0.0]),
    ("cosine", [0.1, 0.05, 0.0]),
])
def test_schedules_span_the_players_updates(schedule, expected):
    cfg = optimizer_config(lr=0.1)
    cfg.name, cfg.schedule = "sgd", schedule
    tx = optim.build_optimizer(cfg, num_updates=10)
    got = [_lr_after(tx, None, n) for n in (1, 6, 11)]
    np.testing.assert_allclose(got, expected, atol=1e-7)


def test_warmup_then_constant():
    cfg = optimizer_config(lr=0.1)
    cfg.name, cfg.warmup_steps = "sgd", 4
    tx = optim.build_optimizer(cfg, num_updates=100)
    np.testing.assert_allclose([_lr_after(tx, None, n) for n in (1, 3, 5, 50)],
                               [0.0, 0.05, 0.1, 0.1], atol=1e-7)


def test_gradient_clipping_limits_the_global_norm():
    cfg = optimizer_config(lr=1.0)
    cfg.name, cfg.grad_clip_norm = "sgd", 1.0
    tx = optim.build_optimizer(cfg, 10)
    params = {"a": jnp.zeros(3), "b": jnp.zeros(4)}
    grads = {"a": jnp.full(3, 10.0), "b": jnp.full(4, 10.0)}
    updates, _ = tx.update(grads, tx.init(params), params)
    assert float(optax.tree_utils.tree_norm(updates)) == pytest.approx(1.0, rel=1e-6)


def test_adam_uses_the_configured_betas():
    cfg = optimizer_config(lr=1e-3, b1=0.0, b2=0.99)
    tx = optim.build_optimizer(cfg, 10)
    reference = optax.adam(1e-3, b1=0.0, b2=0.99)
    params = jnp.ones(3)
    grads = jnp.array([0.1, -2.0, 3.0])
    ours, _ = tx.update(grads, tx.init(params), params)
    ref, _ = reference.update(grads, reference.init(params), params)
    np.testing.assert_allclose(ours, ref, rtol=1e-6)


@pytest.mark.parametrize("name", ["adam", "rmsprop"])
def test_flattened_updates_equal_the_per_leaf_updates(name):
    cfg = optimizer_config(lr=1e-2)
    cfg.name, cfg.schedule, cfg.grad_clip_norm, cfg.momentum = name, "linear", 1.0, 0.5
    per_leaf = optim.build_optimizer(cfg, 10)
    cfg.flatten = True
    flat = optim.build_optimizer(cfg, 10)
    rng = np.random.default_rng(0)
    params = {"dense": {"kernel": jnp.ones((3, 4)), "bias": jnp.zeros(4)}, "scale": jnp.ones(())}
    states = {"leaf": per_leaf.init(params), "flat": flat.init(params)}
    # The flat state holds one vector per moment, 3*4 + 4 + 1 long.
    assert {leaf.shape for leaf in jax.tree.leaves(states["flat"]) if leaf.ndim} == {(17,)}
    for _ in range(4):
        grads = jax.tree.map(lambda p: jnp.asarray(rng.normal(size=p.shape), jnp.float32),
                             params)
        leaf_updates, states["leaf"] = per_leaf.update(grads, states["leaf"], params)
        flat_updates, states["flat"] = flat.update(grads, states["flat"], params)
        # Elementwise arithmetic on the same numbers; the clip's global norm may sum in a
        # different order, hence a float32 tolerance rather than bit equality.
        jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8),
                     leaf_updates, flat_updates)
        params = optax.apply_updates(params, leaf_updates)
