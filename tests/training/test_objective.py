import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax.config import ConfigError
from gan_jax.training import checks, objective
from gan_jax.training import objective as losses
from gan_jax.training.experiment import build_experiment
from gan_jax.training.update import apply_model, split_outputs

REAL = jnp.array([2.0, -1.0])
FAKE = jnp.array([0.5, -3.0])


def softplus(x):
    return np.log1p(np.exp(x))


def test_bce_discriminator_loss_matches_hand_computation():
    # -log sigmoid(r) = softplus(-r); -log(1 - sigmoid(f)) = softplus(f).
    expected = np.mean(softplus(-np.array([2.0, -1.0]))) + np.mean(softplus(np.array([0.5, -3.0])))
    assert losses.bce_d_loss(REAL, FAKE) == pytest.approx(expected, rel=1e-6)
    # At logits 0 (D = 1/2 everywhere) the loss is 2 log 2.
    assert losses.bce_d_loss(jnp.zeros(3), jnp.zeros(3)) == pytest.approx(2 * np.log(2), rel=1e-6)


def test_generator_losses_match_hand_computation():
    f = np.array([0.5, -3.0])
    d = 1 / (1 + np.exp(-f))
    assert losses.minimax_g_loss(FAKE) == pytest.approx(np.mean(np.log(1 - d)), rel=1e-6)
    assert losses.non_saturating_g_loss(FAKE) == pytest.approx(-np.mean(np.log(d)), rel=1e-6)
    assert losses.least_squares_g_loss(FAKE) == pytest.approx(0.5 * np.mean((f - 1) ** 2))
    assert losses.critic_g_loss(FAKE) == pytest.approx(1.25)


def test_least_squares_hinge_wasserstein_discriminator_losses():
    # LSGAN: 0.5 * mean((r-1)^2) + 0.5 * mean(f^2) = 0.5 * (1+4)/2 + 0.5 * (0.25+9)/2.
    assert losses.least_squares_d_loss(REAL, FAKE) == pytest.approx(1.25 + 2.3125)
    # Hinge: mean(relu(1-r)) + mean(relu(1+f)) = (0+2)/2 + (1.5+0)/2.
    assert losses.hinge_d_loss(REAL, FAKE) == pytest.approx(1.75)
    # Wasserstein: mean(f) - mean(r) = -1.25 - 0.5.
    assert losses.wasserstein_d_loss(REAL, FAKE) == pytest.approx(-1.75)


def test_bce_losses_are_stable_at_extreme_logits():
    big = jnp.array([200.0])
    # A naive log(sigmoid(x)) gives -inf / nan here; log-sigmoid forms stay exact.
    assert losses.bce_d_loss(-big, big) == pytest.approx(400.0)
    assert losses.non_saturating_g_loss(-big) == pytest.approx(200.0)
    assert losses.minimax_g_loss(big) == pytest.approx(-200.0)
    grad = jax.grad(lambda x: losses.non_saturating_g_loss(x))(-big)
    assert np.isfinite(grad).all() and grad[0] == pytest.approx(-1.0)


def test_minimax_generator_loss_saturates_where_non_saturating_does_not():
    # When D confidently rejects a fake (logit -10), minimax gives G almost no gradient.
    logit = jnp.array([-10.0])
    minimax_grad = jax.grad(losses.minimax_g_loss)(logit)[0]
    ns_grad = jax.grad(losses.non_saturating_g_loss)(logit)[0]
    assert abs(minimax_grad) < 1e-4
    assert abs(ns_grad) > 0.99


def test_losses_are_chosen_by_name():
    assert losses.get_loss("hinge").d_loss is losses.hinge_d_loss
    assert set(losses.LOSSES.names()) == {
        "minimax", "non_saturating", "least_squares", "hinge", "wasserstein", "rpgan", "ragan"}
    with pytest.raises(ConfigError, match=r"loss.name: unknown loss 'hinj'; did you mean 'hinge'"):
        losses.get_loss("hinj")


def test_gradient_penalty_on_linear_critic():
    # critic(x) = w . x has gradient w everywhere, so GP = (||w|| - 1)^2 at any interpolate.
    w = jnp.array([3.0, 4.0])
    real = jax.random.normal(jax.random.PRNGKey(0), (16, 2))
    fake = jax.random.normal(jax.random.PRNGKey(1), (16, 2))
    gp = losses.gradient_penalty(lambda x: x @ w, real, fake, jax.random.PRNGKey(2))
    assert gp == pytest.approx(16.0, rel=1e-5)
    unit = losses.gradient_penalty(lambda x: x @ (w / 5.0), real, fake, jax.random.PRNGKey(2))
    assert unit == pytest.approx(0.0, abs=1e-6)


def test_gradient_penalty_interpolates_between_pairs():
    # critic(x) = 0.5 ||x||^2 has gradient x: the penalty sees x_hat = eps*real + (1-eps)*fake.
    real = jnp.ones((4, 2)) * 2.0
    fake = jnp.ones((4, 2)) * 2.0
    gp = losses.gradient_penalty(lambda x: 0.5 * jnp.sum(x**2, -1), real, fake,
                                 jax.random.PRNGKey(0))
    assert gp == pytest.approx((np.sqrt(8.0) - 1.0) ** 2, rel=1e-5)


def test_r1_penalty_on_quadratic_critic():
    # critic(x) = c/2 ||x||^2 has gradient c x, so R1 = c^2 E||x||^2; per-example, not batch.
    x = jnp.array([[1.0, 2.0], [0.0, 3.0], [2.0, 2.0]])
    r1 = losses.r1_penalty(lambda v: 1.5 * jnp.sum(v**2, -1), x)
    assert r1 == pytest.approx(9.0 * np.mean([5.0, 9.0, 8.0]), rel=1e-6)


def test_dragan_penalty_by_hand_around_the_real_data():
    # critic(x) = 0.5 ||x||^2 has gradient x_hat = x + a * c * std(x) * u: recompute a and u
    # from the documented draws and take the penalty by hand.
    x = jnp.array([[1.0, -1.0, 0.5], [0.0, 2.0, -0.5]])
    key = jax.random.PRNGKey(3)
    noise_key, alpha_key = jax.random.split(key)
    u = np.asarray(jax.random.uniform(noise_key, x.shape))
    a = np.asarray(jax.random.uniform(alpha_key, (2, 1)))
    spread = np.std(np.asarray(x))
    x_hat = np.asarray(x) + a * 0.5 * spread * u
    expected = np.mean((np.linalg.norm(x_hat, axis=1) - 1.0) ** 2)
    dragan = losses.dragan_penalty(lambda v: 0.5 * jnp.sum(v**2, -1), x, key, scale=0.5)
    assert dragan == pytest.approx(expected, rel=1e-5)
    assert 0 < np.abs(x_hat - np.asarray(x)).max() <= 0.5 * spread  # Perturbed, within c*std.
    # A given spread (the global batch's, under pmap) replaces the batch's own.
    wide = losses.dragan_penalty(lambda v: 0.5 * jnp.sum(v**2, -1), x, key, 0.5, spread=10.0)
    x_wide = np.asarray(x) + a * 0.5 * 10.0 * u
    assert wide == pytest.approx(np.mean((np.linalg.norm(x_wide, axis=1) - 1.0) ** 2), rel=1e-5)


# --- The penalty table and the (real, fake) loss interface. ---



def test_every_penalty_row_names_keys_the_schema_has():
    loss = config_lib.base_config().loss
    for row in objective.PENALTIES:
        assert row.player in ("d", "g")
        assert loss[row.weight_key] == 0.0, row.name  # Off by default.
        keys = [row.interval_key] if row.interval_key else []
        for key in keys + [o.key for o in row.options]:
            assert key in loss, (row.name, key)
        assert set(row.excludes) <= {"translation", "unrolling", "points"}


@pytest.mark.parametrize("key, value, message", [
    ("gp_weight", -1.0, "loss.gp_weight: must be >= 0"),
    ("r1_interval", 0, r"loss.r1_interval: must be >= 1 \(1: every D update\)"),
    ("pl_interval", 0, r"loss.pl_interval: must be >= 1 \(1: every G update\)"),
    ("dragan_scale", 0.0, "loss.dragan_scale: must be > 0"),
    ("pl_decay", 1.5, r"loss.pl_decay: must be in \(0, 1\]"),
])
def test_validation_reads_the_penalty_table_ranges(make_config, key, value, message):
    config = make_config()
    config.loss[key] = value
    with pytest.raises(ConfigError, match=message):
        checks.validate(config)


def test_an_added_row_is_a_new_penalty_in_the_step(make_config, monkeypatch):
    # One function and one row (plus its config key): D's loss gains weight * E D(x)^2.
    row = objective.Penalty("logit_l2", "logit_l2_weight", "d",
                            fn=lambda x, o: jnp.mean(jnp.square(x.real_logits)))
    monkeypatch.setattr(objective, "PENALTIES", objective.PENALTIES + (row,))
    config = config_lib.with_seed(make_config(), 0)
    config.loss.logit_l2_weight = 0.5
    objective.check_ranges(config.loss)  # The row's range: its weight is >= 0.
    exp = build_experiment(config)
    state = exp.init_state()
    _, metrics = jax.jit(exp.train_step())(state, {})
    # The penalty is taken on this D update's real logits, before its update.
    key = jax.random.fold_in(state.rng, 0)
    d_key = jax.random.split(jax.random.fold_in(key, 0), 1)[0]
    real = exp.dataset.sample({}, jax.random.split(d_key, 3)[0], 0, 64)["x"]
    logits = split_outputs(apply_model(exp.discriminator, state.d_params, state.d_state, real,
                                       True)[0])[0]
    np.testing.assert_allclose(float(metrics["d_penalty"]),
                               0.5 * float(jnp.mean(jnp.square(logits))), rtol=1e-5)


def test_an_excluded_setting_is_refused_by_the_row(make_config):
    config = config_lib.with_seed(make_config(), 0)
    config.loss.r1_weight = 1.0
    config.train.unroll_steps = 2
    with pytest.raises(ConfigError, match=r"train.unroll_steps: 2 unrolled D updates take D's "
                                          r"loss without penalties; set loss.r1_weight=0"):
        build_experiment(config)


def _relative_g_loss(real_logits, fake_logits):
    return jnp.mean(real_logits) - jnp.mean(fake_logits)


def test_the_generator_loss_sees_real_logits_when_it_reads_them(make_config, monkeypatch):
    # G's loss mean D(x) - mean D(G(z)) has the critic loss's gradient, so the run is the
    # Wasserstein one bit for bit, and its value differs by D's mean logit on the last real
    # batch, scored by D after its update.
    monkeypatch.setitem(objective.LOSSES._entries, "test_relative_critic", objective.GANLoss(
        objective.wasserstein_d_loss, _relative_g_loss, g_reads_real=True))
    results = {}
    for name in ("wasserstein", "test_relative_critic"):
        config = config_lib.with_seed(make_config(), 0)
        config.loss.name = name
        exp = build_experiment(config)
        state = exp.init_state()
        results[name] = (exp, state, *jax.jit(exp.train_step())(state, {}))
    exp, state, critic_state, critic_metrics = results["wasserstein"]
    _, _, relative_state, relative_metrics = results["test_relative_critic"]
    for a, b in zip(jax.tree.leaves(critic_state), jax.tree.leaves(relative_state),
                    strict=True):
        np.testing.assert_array_equal(a, b)
    key = jax.random.fold_in(state.rng, 0)
    d_key = jax.random.split(jax.random.fold_in(key, 0), 1)[0]
    real = exp.dataset.sample({}, jax.random.split(d_key, 3)[0], 0, 64)["x"]
    real_logits = apply_model(exp.discriminator, critic_state.d_params, critic_state.d_state,
                              real, True)[0]
    np.testing.assert_allclose(
        float(relative_metrics["g_loss"]) - float(critic_metrics["g_loss"]),
        float(jnp.mean(real_logits)), rtol=1e-5, atol=1e-6)


def test_relativistic_pairing_loss_by_hand_and_pairs_by_index():
    real, fake = jnp.array([2.0, -1.0, 0.5]), jnp.array([0.5, -3.0, 1.0])
    loss = objective.get_loss("rpgan")
    assert loss.g_reads_real
    assert float(loss.d_loss(real, fake)) == pytest.approx(
        np.mean(softplus(np.array(fake - real))), rel=1e-6)
    assert float(loss.g_loss(real, fake)) == pytest.approx(
        np.mean(softplus(np.array(real - fake))), rel=1e-6)
    # Pairs are by index: reordering the fakes changes the loss.
    assert float(loss.d_loss(real, fake[::-1])) != pytest.approx(float(loss.d_loss(real, fake)))


def test_relativistic_average_loss_by_hand():
    r, f = np.array([2.0, -1.0, 0.5]), np.array([0.5, -3.0, 1.0])
    loss = objective.get_loss("ragan")
    d = np.mean(softplus(-(r - f.mean()))) + np.mean(softplus(f - r.mean()))
    g = np.mean(softplus(-(f - r.mean()))) + np.mean(softplus(r - f.mean()))
    assert float(loss.d_loss(jnp.array(r), jnp.array(f))) == pytest.approx(d, rel=1e-6)
    assert float(loss.g_loss(jnp.array(r), jnp.array(f))) == pytest.approx(g, rel=1e-6)
    # Against the average only: reordering either batch changes nothing.
    assert float(loss.d_loss(jnp.array(r), jnp.array(f[::-1]))) == pytest.approx(d, rel=1e-6)


def test_r2_is_r1_on_the_fakes_through_their_own_critic():
    row = next(r for r in objective.PENALTIES if r.name == "r2")
    assert (row.weight_key, row.player, row.scale, row.interval_key) == (
        "r2_weight", "d", 0.5, "r1_interval")
    fake = jnp.array([[1.0, 2.0], [0.0, -1.0]])
    inputs = objective.DInputs(
        critic=lambda v: jnp.sum(v, -1), fake_critic=lambda v: 1.5 * jnp.sum(v**2, -1),
        real=jnp.zeros((2, 2)), fake=fake, key=jax.random.PRNGKey(0), images=jnp.zeros((2, 2)),
        real_logits=jnp.zeros(2), fake_logits=jnp.zeros(2), global_std=jnp.std)
    # grad of 1.5 ||v||^2 is 3v: E ||3 v||^2 = 9 * (5 + 1) / 2 = 27.
    assert float(row.fn(inputs, {})) == pytest.approx(27.0)


@pytest.mark.parametrize("name", ["rpgan", "ragan"])
def test_relativistic_losses_with_r1_and_r2_train_on_the_ring(make_config, name):
    config = config_lib.with_seed(make_config(), 0)
    config.loss.update(dict(name=name, r1_weight=0.5, r2_weight=0.5))
    checks.validate(config)
    exp = build_experiment(config)
    state = exp.init_state()
    step = jax.jit(exp.train_step())
    for _ in range(3):
        state, metrics = step(state, {})
    assert all(np.isfinite(float(v)) for v in metrics.values())
    assert float(metrics["d_penalty"]) > 0.0
    # From the same state, R1 + R2 is more than R1 alone.
    penalties = {}
    for r2 in (0.0, 0.5):
        config.loss.r2_weight = r2
        penalties[r2] = float(jax.jit(build_experiment(config).train_step())(
            state, {})[1]["d_penalty"])
    assert penalties[0.5] > penalties[0.0] > 0.0


def test_lecam_moves_its_anchors_then_penalises_against_them():
    row = next(r for r in objective.PENALTIES if r.name == "lecam")
    real, fake = jnp.array([2.0, 0.0]), jnp.array([-1.0, -3.0])
    inputs = objective.DInputs(
        critic=None, fake_critic=None, real=None, fake=None, key=None, images=None,
        real_logits=real, fake_logits=fake, global_std=jnp.std)
    state = {"real": jnp.array(0.5), "fake": jnp.array(-1.0)}
    value, anchors = row.fn(inputs, {"lecam_decay": 0.9}, state)
    a_r, a_f = 0.9 * 0.5 + 0.1 * 1.0, 0.9 * -1.0 + 0.1 * -2.0  # Batch means 1 and -2.
    assert float(anchors["real"]) == pytest.approx(a_r)
    assert float(anchors["fake"]) == pytest.approx(a_f)
    expected = np.mean((np.array(real) - a_f) ** 2) + np.mean((np.array(fake) - a_r) ** 2)
    assert float(value) == pytest.approx(expected, rel=1e-6)
    # The anchors are constants: the gradient is the formula's, 2 (D(x) - a_F) / n.
    grad = jax.grad(lambda r: row.fn(dataclasses.replace(inputs, real_logits=r),
                                     {"lecam_decay": 0.9}, state)[0])(real)
    np.testing.assert_allclose(grad, (np.array(real) - a_f), rtol=1e-6)


def test_lecam_anchors_live_in_d_state_and_follow_d_mean_logits(make_config):
    config = config_lib.with_seed(make_config(), 0)
    config.loss.update(dict(lecam_weight=0.3, lecam_decay=0.5))
    exp = build_experiment(config)
    state = exp.init_state()
    assert float(state.d_state["lecam"]["real"]) == 0.0
    new_state, metrics = jax.jit(exp.train_step())(state, {})
    # One D update from zero anchors: a = (1 - decay) * the batch's mean logit.
    assert float(new_state.d_state["lecam"]["real"]) == pytest.approx(
        0.5 * float(metrics["d_real_logit"]), rel=1e-5)
    assert float(new_state.d_state["lecam"]["fake"]) == pytest.approx(
        0.5 * float(metrics["d_fake_logit"]), rel=1e-5)
    assert float(metrics["d_lecam_real_anchor"]) == pytest.approx(
        float(new_state.d_state["lecam"]["real"]))
    assert float(metrics["d_penalty"]) > 0.0


def _cr_inputs(critic, images, fakes=None, perturbed=None):
    n = images.shape[0]
    return objective.DInputs(
        critic=critic, fake_critic=critic, real=images, fake=fakes, key=None, images=images,
        real_logits=critic(images), fake_logits=critic(fakes) if fakes is not None else None,
        global_std=jnp.std, fake_images=fakes, perturbed_fake=perturbed,
        batch_key=jax.random.PRNGKey(1), batch_size=n)


def test_consistency_is_zero_for_an_invariant_critic_and_the_formula_otherwise():
    images = jax.random.normal(jax.random.PRNGKey(0), (6, 8, 8, 1))
    rows = {r.name: r for r in objective.PENALTIES}
    options = {"cr_augment": "xflip"}
    invariant = lambda x: jnp.sum(x, axis=(1, 2, 3))  # noqa: E731 - flips keep the sum.
    assert float(rows["cr"].fn(_cr_inputs(invariant, images), options)) == pytest.approx(
        0.0, abs=1e-8)
    left = lambda x: jnp.sum(x[:, :, :4], axis=(1, 2, 3))  # noqa: E731 - the left half.
    inputs = _cr_inputs(left, images, fakes=images)
    params = objective.ada.draw(("xflip",), jax.random.fold_in(
        jax.random.fold_in(inputs.batch_key, objective.CR_STREAM), 0), jnp.float32(1.0), 6,
        (8, 8, 1))
    expected = jnp.mean(jnp.square(left(images) - left(objective.ada.apply(images, params))))
    assert float(rows["cr"].fn(inputs, options)) == pytest.approx(float(expected), rel=1e-5)
    assert float(expected) > 0  # Some images were flipped.
    assert float(rows["bcr_fake"].fn(inputs, options)) > 0


def test_latent_consistency_terms_by_hand():
    fakes = jnp.arange(12.0).reshape(3, 4)
    rows = {r.name: r for r in objective.PENALTIES}
    critic = lambda x: jnp.sum(x, -1)  # noqa: E731
    inputs = _cr_inputs(critic, fakes, fakes=fakes, perturbed=lambda sigma: fakes + sigma)
    # Each perturbed fake's critic value moves by 4 sigma.
    assert float(rows["zcr_d"].fn(inputs, {"zcr_sigma": 0.5})) == pytest.approx(4.0)
    g_inputs = objective.GInputs(generator=None, params=None, g_state=None, key=None,
                                 batch_size=3, latents=None, example_keys=None,
                                 local_rows=None, mean_over_devices=None, fake=fakes,
                                 perturbed_fake=lambda sigma: fakes + sigma)
    assert float(rows["zcr_g"].fn(g_inputs, {"zcr_sigma": 0.5})) == pytest.approx(-0.25)


def test_consistency_terms_train_on_images_and_are_refused_on_points(image_folder,
                                                                     make_config):
    from tests.helpers import tiny_image_config

    config = config_lib.with_seed(tiny_image_config(image_folder), 0)
    config.loss.update(dict(cr_weight=1.0, bcr_fake_weight=1.0, zcr_d_weight=1.0,
                            zcr_g_weight=0.1))
    checks.validate(config)
    experiment = build_experiment(config)
    assert [p.row.name for p in experiment.settings.d_penalties] == ["cr", "bcr_fake", "zcr_d"]
    state, data = experiment.init_state(), experiment.device_data()
    _, metrics = jax.jit(experiment.train_step())(state, data)
    assert float(metrics["d_penalty"]) > 0 and float(metrics["g_penalty"]) < 0
    points = config_lib.with_seed(make_config(), 0)
    points.loss.cr_weight = 1.0
    with pytest.raises(ConfigError, match="loss.cr_weight: transforms images; dataset 'ring' "
                                          "holds 2D points"):
        build_experiment(points)


def test_orthogonality_is_its_formula_and_zero_for_orthogonal_rows():
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(5, 3)).astype(np.float32)  # Flax layout (in, out)
    conv = rng.normal(size=(3, 3, 2, 4)).astype(np.float32)  # (h, w, in, out)
    params = {"Dense_0": {"kernel": dense, "bias": np.ones(3, np.float32)},
              "Conv_0": {"kernel": conv}, "Embed_0": {"embedding": np.ones((4, 4), np.float32)}}
    expected = 0.0
    for kernel in (dense, conv):
        w = kernel.reshape(-1, kernel.shape[-1]).T  # out x fan_in, as BigGAN-PyTorch's view
        gram = w @ w.T
        expected += float(np.sum((gram - np.diag(np.diag(gram))) ** 2))
    np.testing.assert_allclose(float(objective.orthogonality(params)), expected, rtol=1e-5)
    # Rows orthogonal, of any lengths: no penalty.
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    scaled = (q[:, :3] * np.array([1.0, 2.0, 0.5])).astype(np.float32)
    assert float(objective.orthogonality({"kernel": scaled})) == pytest.approx(0.0, abs=1e-6)


def test_orthogonality_gradient_is_biggan_pytorch_ortho_at_the_weight():
    # BigGAN-PyTorch adds strength * 2 (W W^T * (1 - I)) W to each weight's gradient.
    kernel = jnp.asarray(np.random.default_rng(1).normal(size=(4, 3)), jnp.float32)
    row = {r.name: r for r in objective.PENALTIES}["ortho"]
    beta = 1e-4
    grad = jax.grad(lambda k: beta * row.scale * row.fn(
        objective.GInputs(generator=None, params={"kernel": k}, g_state=None, key=None,
                          batch_size=1, latents=None, example_keys=None, local_rows=None,
                          mean_over_devices=None), {}))(kernel)
    w = np.asarray(kernel).T
    ortho = 2 * ((w @ w.T) * (1 - np.eye(3))) @ w
    np.testing.assert_allclose(np.asarray(grad).T, beta * ortho, rtol=1e-5)


def test_orthogonality_joins_the_generator_loss(make_config):
    config = config_lib.with_seed(make_config(), 0)
    config.loss.ortho_weight = 1e-2
    experiment = build_experiment(config)
    assert [p.row.name for p in experiment.settings.g_penalties] == ["ortho"]
    state = experiment.init_state()
    _, metrics = jax.jit(experiment.train_step())(state, {})
    # Taken on G's weights before this step's G update.
    expected = 0.5 * 1e-2 * float(objective.orthogonality(state.g_params))
    np.testing.assert_allclose(float(metrics["g_penalty"]), expected, rtol=1e-4)
