import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax.training.experiment import build_experiment
from gan_jax.training.update import make_multi_step


def _experiment(config):
    return build_experiment(config_lib.with_seed(config, 0))


def _tree_equal(a, b):
    return all(jax.tree.leaves(jax.tree.map(lambda x, y: bool(np.array_equal(x, y)), a, b)))


def test_step_updates_both_players_and_reports_metrics(make_config):
    exp = _experiment(make_config())
    state = exp.init_state()
    new, metrics = jax.jit(exp.train_step())(state, {})
    assert int(new.step) == 1
    assert not _tree_equal(new.g_params, state.g_params)
    assert not _tree_equal(new.d_params, state.d_params)
    assert set(metrics) == {"d_loss", "d_penalty", "d_real_logit", "d_fake_logit", "d_real",
                            "d_fake", "d_grad_norm", "g_loss", "g_fake_logit", "g_grad_norm"}
    # BCE of a discriminator that has not learnt yet: positive and not far from 2 log 2.
    assert 0.5 < float(metrics["d_loss"]) < 3.0
    assert 0.0 < float(metrics["d_real"]) < 1.0 and 0.0 < float(metrics["d_fake"]) < 1.0
    assert float(metrics["d_penalty"]) == 0.0


@pytest.mark.parametrize("n_disc", [1, 3])
def test_n_disc_discriminator_updates_per_generator_update(make_config, n_disc):
    config = make_config()
    config.train.n_disc = n_disc
    exp = _experiment(config)
    state = exp.init_state()
    step = jax.jit(exp.train_step())
    for _ in range(2):
        state, _ = step(state, {})
    # Adam's state counts its updates: D made n_disc per step, G one.
    assert int(state.d_opt_state[0].count) == 2 * n_disc
    assert int(state.g_opt_state[0].count) == 2


def test_ema_follows_the_generator(make_config):
    config = make_config()
    config.train.ema_decay = 0.0
    exp = _experiment(config)
    state, _ = jax.jit(exp.train_step())(exp.init_state(), {})
    assert _tree_equal(state.ema_g_params, state.g_params)

    config.train.ema_decay = 0.9
    exp = _experiment(config)
    init = exp.init_state()
    state, _ = jax.jit(exp.train_step())(init, {})
    expected = jax.tree.map(lambda e, p: 0.9 * e + 0.1 * p, init.ema_g_params, state.g_params)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7),
                 state.ema_g_params, expected)


def test_ema_ramp_up_follows_stylegan2_ada(make_config):
    from gan_jax.training.state import ema_decay_at, ema_initial_weight

    # StyleGAN2-ADA: half-life min(H, rampup * images seen); beta = 0.5 ** (batch / half-life).
    batch, decay, rampup = 64, 0.999, 0.05
    half_life = batch * np.log(0.5) / np.log(decay)
    for step in (1, 7, 100, 5_000, 20_000):
        expected = 0.5 ** (batch / min(half_life, rampup * step * batch))
        np.testing.assert_allclose(float(ema_decay_at(step, decay, rampup)), expected,
                                   rtol=1e-6)
    assert float(ema_decay_at(0, decay, rampup)) == 0.0  # The EMA starts as a copy of G.
    assert ema_decay_at(123, decay) == decay  # No ramp: the plain decay, a Python float.
    assert ema_initial_weight(300, decay) == pytest.approx(0.999 ** 300)
    assert ema_initial_weight(300, decay, rampup) == 0.0

    config = make_config()
    config.train.ema_decay, config.train.ema_rampup = 0.999, 0.05
    exp = _experiment(config)
    step = jax.jit(exp.train_step())
    state, _ = step(exp.init_state(), {})
    assert _tree_equal(state.ema_g_params, state.g_params)  # Decay 0 at the first update.
    before = state
    state, _ = step(state, {})
    beta = 0.5 ** (1 / 0.05)  # Second update: step 1.
    expected = jax.tree.map(lambda e, p: beta * e + (1 - beta) * p, before.ema_g_params,
                            state.g_params)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7),
                 state.ema_g_params, expected)


def test_ema_start_copies_the_generator_until_then(make_config):
    from gan_jax.training.state import ema_initial_weight

    config = make_config()
    config.train.ema_decay, config.train.ema_start = 0.9, 2
    exp = _experiment(config)
    step = jax.jit(exp.train_step())
    state = exp.init_state()
    for _ in range(2):  # Updates 0 and 1 come before the start: the EMA is a copy of G.
        state, _ = step(state, {})
        assert _tree_equal(state.ema_g_params, state.g_params)
    before = state
    state, _ = step(state, {})  # Update 2 averages with the decay.
    expected = jax.tree.map(lambda e, p: 0.9 * e + 0.1 * p, before.ema_g_params, state.g_params)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7),
                 state.ema_g_params, expected)
    assert not _tree_equal(state.ema_g_params, state.g_params)
    assert ema_initial_weight(3, 0.9, start=2) == 0.0


def test_multi_step_equals_repeated_single_steps(make_config):
    exp = _experiment(make_config())
    step = jax.jit(exp.train_step())
    multi = jax.jit(make_multi_step(exp.train_step()), static_argnums=2)
    a = exp.init_state()
    for _ in range(6):
        a, _ = step(a, {})
    b, metrics = multi(exp.init_state(), {}, 6)
    assert int(b.step) == 6 and float(metrics["finite"]) == 1.0
    # Same computation, scanned instead of dispatched: equal to float32 rounding.
    jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6), a, b)


def test_grouping_of_steps_into_calls_does_not_change_the_result(make_config):
    exp = _experiment(make_config())
    multi = jax.jit(make_multi_step(exp.train_step()), static_argnums=2)
    one_call, _ = multi(exp.init_state(), {}, 10)
    split, _ = multi(exp.init_state(), {}, 5)
    split, _ = multi(split, {}, 5)
    assert _tree_equal(one_call, split)


@pytest.mark.parametrize("penalty", ["gp_weight", "r1_weight", "dragan_weight"])
def test_penalties_enter_the_discriminator_loss(make_config, penalty):
    config = make_config()
    config.loss[penalty] = 10.0
    exp = _experiment(config)
    _, metrics = jax.jit(exp.train_step())(exp.init_state(), {})
    assert float(metrics["d_penalty"]) > 0.0
    assert np.isfinite(float(metrics["d_penalty"]))


@pytest.mark.parametrize("loss", ["minimax", "non_saturating", "least_squares", "hinge",
                                  "wasserstein"])
def test_every_loss_trains(make_config, loss):
    config = make_config()
    config.loss.name = loss
    exp = _experiment(config)
    multi = jax.jit(make_multi_step(exp.train_step()), static_argnums=2)
    state, metrics = multi(exp.init_state(), {}, 20)
    assert float(metrics["finite"]) == 1.0 and int(state.step) == 20


def test_real_data_is_drawn_on_device_without_host_transfers(make_config):
    exp = _experiment(make_config())
    multi = jax.jit(make_multi_step(exp.train_step()), static_argnums=2)
    state = exp.init_state()
    multi(state, {}, 5)  # Compile first.
    with jax.transfer_guard("disallow"):
        state, metrics = multi(state, {}, 5)
        jax.block_until_ready(state)
    assert int(jax.device_get(state.step)) == 5


def test_non_finite_losses_are_flagged(make_config):
    config = make_config()
    config.optim.d.lr = 1e30
    config.optim.g.lr = 1e30
    exp = _experiment(config)
    _, metrics = jax.jit(make_multi_step(exp.train_step()), static_argnums=2)(
        exp.init_state(), {}, 20)
    assert float(metrics["finite"]) == 0.0


def test_lazy_r1_enters_on_every_kth_discriminator_update_scaled_by_k(make_config):
    """With r1_interval 3, D updates 0, 3, 6, ... add 3x the penalty an every-update R1
    computes from the same state; the others add nothing."""
    config = make_config()
    config.loss.r1_weight = 2.0
    steps = {}
    for interval in (1, 3):
        config.loss.r1_interval = interval
        exp = _experiment(config)
        steps[interval] = jax.jit(exp.train_step())
    state = exp.init_state()
    for t in range(5):
        eager = float(steps[1](state, {})[1]["d_penalty"])
        state, metrics = steps[3](state, {})
        assert eager > 0
        if t % 3 == 0:
            np.testing.assert_allclose(float(metrics["d_penalty"]), 3 * eager, rtol=1e-5)
        else:
            assert float(metrics["d_penalty"]) == 0.0


def test_path_length_penalty_matches_an_explicit_jacobian_and_is_lazy(image_folder):
    """Step 0's path lengths equal |J_w^T y| from the full Jacobian of the images with respect
    to ws, for the latents, noise and mixing the documented key schedule draws; with interval
    2 the term is 2 x weight x (length - updated mean)^2 on even steps, and odd steps add
    nothing and keep the running mean."""
    from gan_jax.models.latent import sample_latent
    from gan_jax.training.objective import PATH_LENGTH_STREAM
    from gan_jax.training.update import example_keys
    PATH_LENGTH_STATE = "path_length"
    from tests.helpers import tiny_stylegan_config

    config = tiny_stylegan_config(image_folder)
    config.loss.update(dict(pl_weight=3.0, pl_interval=2, pl_decay=0.25, pl_batch_shrink=2))
    exp = _experiment(config)
    step = jax.jit(exp.train_step())
    state, data = exp.init_state(), exp.device_data()
    assert float(state.g_state[PATH_LENGTH_STATE]["mean"]) == 0.0

    # The reference: key schedule of step 0, then lengths from the explicit Jacobian.
    g_key = jax.random.fold_in(jax.random.fold_in(state.rng, 0), 1)
    latent_key, noise_key = jax.random.split(jax.random.fold_in(g_key, PATH_LENGTH_STREAM))
    num = config.train.batch_size // 2
    z = sample_latent(latent_key, num, config.model.latent_dim, config.model.latent_dist)
    keys = example_keys(latent_key, num)
    variables = {"params": state.g_params, "stats": state.g_state["stats"]}
    gen = exp.generator
    ws = gen.apply(variables, z, keys, method=lambda g, z, k: g.mix(g.map(z), z, k))
    jacobian = jax.jit(jax.jacrev(
        lambda w: gen.apply(variables, w, keys, method="synthesize")))(ws)
    image_shape = jacobian.shape[1:4]
    noise = jax.random.normal(noise_key, (num, *image_shape)) / np.sqrt(np.prod(image_shape[:2]))
    # J is [n, H, W, C, n, L, D]: example i's images depend on example i's ws only.
    per_example = jnp.stack([jacobian[i, ..., i, :, :] for i in range(num)])
    w_grads = jnp.einsum("nhwc,nhwcld->nld", noise, per_example)
    lengths = np.sqrt(np.mean(np.sum(np.square(w_grads), axis=2), axis=1))
    mean = 0.25 * lengths.mean()

    state, metrics = step(state, data)
    np.testing.assert_allclose(float(metrics["g_path_length"]), mean, rtol=1e-4)
    np.testing.assert_allclose(float(metrics["g_penalty"]),
                               2 * 3.0 * np.mean((lengths - mean) ** 2), rtol=1e-4)
    after_first = float(state.g_state[PATH_LENGTH_STATE]["mean"])
    np.testing.assert_allclose(after_first, mean, rtol=1e-4)
    state, metrics = step(state, data)
    assert float(metrics["g_penalty"]) == 0.0
    assert float(state.g_state[PATH_LENGTH_STATE]["mean"]) == after_first
    state, metrics = step(state, data)
    assert float(metrics["g_penalty"]) > 0
    assert float(state.g_state[PATH_LENGTH_STATE]["mean"]) != after_first


def test_unrolled_generator_gradient_matches_a_hand_unrolled_reference(make_config):
    """With SGD, G's update after k = 2 unrolled D steps equals -lr times the gradient of
    G's loss against D moved twice by d <- d - lr_D grad L_D(d), on the step's last real
    batch and G's fakes, differentiated through both moves; k = 0 is the plain step."""
    from gan_jax.models.latent import sample_latent

    config = make_config()
    for player in (config.optim.g, config.optim.d):
        player.name, player.lr = "sgd", 0.05
    plain = _experiment(config)
    config.train.unroll_steps = 2
    exp = _experiment(config)
    state = exp.init_state()
    unrolled_state, _ = jax.jit(exp.train_step())(state, {})
    plain_state, _ = jax.jit(plain.train_step())(state, {})

    key = jax.random.fold_in(state.rng, 0)
    real_key = jax.random.split(jax.random.split(jax.random.fold_in(key, 0), 1)[0], 3)[0]
    real = exp.dataset.sample({}, real_key, 0, config.train.batch_size)["x"]
    z = sample_latent(jax.random.fold_in(key, 1), config.train.batch_size,
                      config.model.latent_dim, config.model.latent_dist)
    d_after_update = unrolled_state.d_params  # D's own update is not unrolled.

    def d_logits(d, x):
        return exp.discriminator.apply({"params": d}, x, train=True)

    def g_objective(g, unroll):
        fake = exp.generator.apply({"params": g}, z, train=True)
        d = d_after_update
        for _ in range(unroll):
            grads = jax.grad(lambda p: exp.loss.d_loss(d_logits(p, real), d_logits(p, fake)))(d)
            d = jax.tree.map(lambda p, g_: p - 0.05 * g_, d, grads)
        return exp.loss.g_loss(None, d_logits(d, fake))

    for unroll, after in ((2, unrolled_state), (0, plain_state)):
        reference = jax.grad(g_objective)(state.g_params, unroll)
        measured = jax.tree.map(lambda old, new: (old - new) / 0.05, state.g_params,
                                after.g_params)
        for r, m in zip(jax.tree.leaves(reference), jax.tree.leaves(measured), strict=True):
            np.testing.assert_allclose(m, r, rtol=2e-3, atol=2e-5)
    # Unrolling changes G's gradient well beyond the tolerance, and D's own update not at all.
    change = [np.abs(a - b).max() / np.abs(b).max() for a, b in zip(
        jax.tree.leaves(jax.grad(g_objective)(state.g_params, 2)),
        jax.tree.leaves(jax.grad(g_objective)(state.g_params, 0)), strict=True)]
    assert max(change) > 0.05
    assert _tree_equal(unrolled_state.d_params, plain_state.d_params)


@pytest.mark.parametrize("key, value, message", [
    ("loss.gp_weight", 1.0, r"loss.gp_weight=0 or train.unroll_steps=0"),
    ("loss.dragan_weight", 1.0, r"loss.dragan_weight=0 or train.unroll_steps=0"),
])
def test_unrolling_refuses_what_its_updates_cannot_take(make_config, key, value, message):
    from gan_jax.config.registry import ConfigError

    config = make_config()
    config.train.unroll_steps = 3
    section, name = key.split(".")
    config[section][name] = value
    with pytest.raises(ConfigError, match=r"train.unroll_steps: 3 unrolled D updates .*" + message):
        _experiment(config)
