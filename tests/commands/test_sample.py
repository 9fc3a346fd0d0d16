"""Style-based pictures: truncation, style mixing and noise grids, and W interpolation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from gan_jax import config as config_lib
from gan_jax.commands import sample
from gan_jax.config.registry import ConfigError
from gan_jax.runs import evaluation
from gan_jax.training.experiment import build_experiment
from tests.helpers import tiny_stylegan_config

NUM, STEPS = 2, 3


@pytest.fixture(scope="module")
def style_run(tmp_path_factory):
    """A 16x16 style-based experiment and a state with noise strengths and an average w."""
    from tests.helpers import write_image_folder

    folder = write_image_folder(tmp_path_factory.mktemp("images"))
    config = tiny_stylegan_config(folder)
    config.data.image_size = 16
    experiment = build_experiment(config_lib.with_seed(config, 0))
    state = experiment.init_state()
    flat = traverse_util.flatten_dict(state.ema_g_params)
    flat = {k: jnp.full_like(v, 0.5) if k[-1] == "noise_strength" else v
            for k, v in flat.items()}
    w_avg = jnp.linspace(-1.0, 1.0, config.model.generator.w_dim)
    return experiment, state.replace(ema_g_params=traverse_util.unflatten_dict(flat),
                                     g_state={"stats": {"w_avg": w_avg}})


def cells(images, columns):
    return images.reshape(-1, columns, *images.shape[1:])


def test_style_ranges_split_resolutions_into_coarse_middle_and_fine():
    assert sample.style_ranges((32, 32, 3)) == [("coarse", 0, 3), ("middle", 3, 5),
                                                 ("fine", 5, 8)]
    assert sample.style_ranges((16, 16, 1)) == [("coarse", 0, 1), ("middle", 1, 3),
                                                 ("fine", 3, 6)]
    # StyleGAN's split at 256: 4-8, 16-32, 64-256.
    assert sample.style_ranges((256, 256, 3)) == [("coarse", 0, 3), ("middle", 3, 7),
                                                   ("fine", 7, 14)]
    # By the short side: 64 x 32 is 8x4, 16x8, 32x16, 64x32 (sides 4, 8, 16, 32, as 32 x 32's);
    # 28 x 28 is 7, 14, 28.
    assert sample.style_ranges((64, 32, 3)) == sample.style_ranges((32, 32, 3))
    assert sample.style_ranges((28, 28, 1)) == [("coarse", 0, 1), ("middle", 1, 3),
                                                 ("fine", 3, 6)]


def test_truncation_grid_ends_in_the_average_image(style_run):
    experiment, state = style_run
    images, columns = sample.style_picture(experiment, state, "truncation", NUM,
                                           psis=(1.0, 0.5, 0.0))
    grid = cells(images, columns)
    assert grid.shape[:2] == (NUM, 3)
    np.testing.assert_allclose(grid[0, 2], grid[1, 2], atol=1e-5)  # psi 0: the average w.
    assert not np.allclose(grid[0, 0], grid[1, 0], atol=1e-3)


def test_mixing_grid_rows_take_one_range_of_styles_from_each_column(style_run):
    experiment, state = style_run
    images, columns = sample.style_picture(experiment, state, "mixing", NUM, steps=STEPS)
    grid = cells(images, columns)
    ranges = sample.style_ranges((16, 16, 1))
    assert grid.shape[:2] == (1 + len(ranges) * NUM, STEPS + 1)
    assert np.all(grid[0, 0] == 0)  # The empty corner.
    sources_b = grid[0, 1:]
    for r in range(len(ranges)):
        for a in range(NUM):
            row = grid[1 + r * NUM + a]
            source_a = row[0]
            np.testing.assert_allclose(source_a, grid[1 + a, 0], atol=1e-6)  # Same A per range.
            for b in range(STEPS):
                assert not np.allclose(row[1 + b], source_a, atol=1e-4)
                assert not np.allclose(row[1 + b], sources_b[b], atol=1e-4)


def test_noise_grid_varies_only_with_the_noise(style_run):
    experiment, state = style_run
    images, columns = sample.style_picture(experiment, state, "noise", NUM, steps=STEPS)
    grid = cells(images, columns)
    assert grid.shape[:2] == (NUM, STEPS + 1)
    draws = grid[:, :STEPS]
    assert not np.allclose(draws[0, 0], draws[0, 1], atol=1e-4)
    # Same w: the draws of a row differ far less than two rows' images do.
    within = np.abs(draws[0, 0] - draws[0, 1]).mean()
    assert within < np.abs(draws[0, 0] - draws[1, 0]).mean()
    assert grid[:, STEPS].min() >= -1.0 and np.isclose(grid[:, STEPS].max(), 1.0)


def test_interpolation_in_w_is_linear_between_the_ends(style_run):
    experiment, state = style_run
    images, columns = sample.style_picture(experiment, state, "interpolate", NUM, steps=STEPS)
    assert (images.shape[0], columns) == (NUM * STEPS, STEPS)
    ends = sample._map(experiment.generator, state.ema_g_params, state.g_state,
                       experiment.latents(jax.random.PRNGKey(0), 2), jnp.float32(1.0))
    first = sample._synthesize(experiment.generator, state.ema_g_params, state.g_state,
                               ends[:1], None)
    np.testing.assert_allclose(images[0], first[0], atol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(mode="truncation", psis=(1.0, 1.5)), "--psi: psi 1.5 is out of range [-1, 1]"),
    (dict(mode="random", truncation=-2.0), "--truncation: psi -2.0 is out of range"),
    (dict(mode="random", space="w"), "--space w: interpolates in W"),
])
def test_bad_style_requests_get_one_line(style_run, kwargs, message):
    experiment, _ = style_run
    mode = kwargs.pop("mode")
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        sample.check_request(experiment, mode, "x.png", (0,), **kwargs)


def test_path_length_in_w_is_measured_through_the_extractor(style_run):
    from types import SimpleNamespace

    from tests.eval.test_path_length import PIXELS

    experiment, state = style_run
    evaluator = SimpleNamespace(extractor=PIXELS)
    out = evaluation.path_length(experiment, state.ema_g_params, state.g_state, evaluator,
                                 jax.random.PRNGKey(0), 8)
    assert list(out) == ["ppl_w_pixels_n8"] and 0 < out["ppl_w_pixels_n8"] < np.inf
    # Deterministic: the latents, positions and noise all come from the key.
    again = evaluation.path_length(experiment, state.ema_g_params, state.g_state, evaluator,
                                   jax.random.PRNGKey(0), 8)
    assert again == out


def test_sampling_an_ema_that_holds_its_initial_weights_warns(tmp_path, make_config):
    from gan_jax.runs.loop import train_and_evaluate

    config = make_config(num_steps=100)
    train_and_evaluate(config, str(tmp_path / "plain"))
    experiment, state = sample.load_run(str(tmp_path / "plain"))
    warning = sample.ema_warning(experiment, state)
    assert "after 100 steps with train.ema_decay=0.999, 90% of the EMA generator is still its " \
           "initial weights" in warning and "--generator raw" in warning
    assert sample.ema_warning(experiment, state, "raw") is None

    config.train.ema_rampup = 0.05
    train_and_evaluate(config, str(tmp_path / "ramped"))
    experiment, state = sample.load_run(str(tmp_path / "ramped"))
    assert sample.ema_warning(experiment, state) is None


def test_the_ring_picture_marks_modes_without_high_quality_samples():
    from gan_jax.eval.mixtures import high_quality_counts
    from gan_jax.runs import plots

    angles = np.arange(8) * np.pi / 4
    centres = np.stack([np.cos(angles), np.sin(angles)], 1)
    pick, noise = jax.random.split(jax.random.PRNGKey(0))
    fake = (centres[np.asarray(jax.random.randint(pick, (500,), 1, 8))]
            + 0.005 * np.asarray(jax.random.normal(noise, (500, 2))))
    counts = high_quality_counts(fake, centres, 0.01)
    assert counts[0] == 0 and (counts[1:] > 0).all()
    fig = plots.scatter_figure(centres, {"raw generator": fake}, centres, "ring",
                               mode_counts={"raw generator": counts})
    (ax,) = fig.axes
    assert ax.get_title() == "raw generator: 7/8 modes"
    (crosses,) = [c for c in ax.collections if c.get_label() == "no high-quality sample"]
    np.testing.assert_allclose(crosses.get_offsets(), centres[:1])


def test_z_truncation_bounds_every_latent_and_is_checked(style_run):
    from tests.helpers import tiny_config

    experiment = build_experiment(config_lib.with_seed(tiny_config(), 0))
    for mode in ("random", "interpolate", "traverse"):
        z, _, columns = sample.make_latents(experiment, mode, 64, dims=(0,), span=0.5,
                                            z_truncation=0.5)
        if mode == "interpolate":  # The ends are drawn; the great circle between may leave
            z = jnp.reshape(z, (64, columns, -1))[:, ::columns - 1]  # the box.
        assert float(jnp.max(jnp.abs(z))) <= 0.5 + 1e-6, mode
    wide, _, _ = sample.make_latents(experiment, "random", 64)
    assert float(jnp.max(jnp.abs(wide))) > 1.5  # Untruncated: N(0, 1) reaches past 1.5.
    with pytest.raises(ConfigError, match="--z-truncation: a bound on |z| is > 0"):
        sample.check_request(experiment, "random", "x.png", (), z_truncation=-1.0)
    style_experiment, _ = style_run
    with pytest.raises(ConfigError, match="--z-truncation: a style-based run truncates in W"):
        sample.check_request(style_experiment, "random", "x.png", (), z_truncation=1.0)
