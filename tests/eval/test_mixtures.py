import jax
import numpy as np
import pytest

from gan_jax.data import mixtures
from gan_jax.eval.mixtures import mixture_metrics

# For a 2D isotropic Gaussian, P(||x - mu|| <= 3 std) = 1 - exp(-9/2): the best possible
# high-quality fraction of a perfect sampler is 98.9%, not 100%.
P_WITHIN_3STD = 1 - np.exp(-4.5)


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_perfect_sampler_captures_every_mode(name):
    mixture = getattr(mixtures, name)()
    n = 25_000
    points = np.asarray(mixture.draw(jax.random.PRNGKey(0), n))
    m = mixture_metrics(points, mixture.centres, mixture.std)
    assert m["modes"] == m["num_modes"] == mixture.num_modes
    # Binomial standard error sqrt(p(1-p)/n) = 0.0007; allow 5 of them.
    assert m["high_quality"] == pytest.approx(P_WITHIN_3STD, abs=0.0035)
    # Multinomial counts: KL to uniform is ~ (K-1)/(2n) on average; well below 0.01.
    assert 0 <= m["reverse_kl"] < 0.01


def test_collapsed_sampler_gets_one_mode():
    mixture = mixtures.ring()
    points = np.tile(mixture.centres[3], (2500, 1)) + 0.001
    m = mixture_metrics(points, mixture.centres, mixture.std)
    assert m["modes"] == 1
    assert m["high_quality"] == 1.0
    assert m["reverse_kl"] == pytest.approx(np.log(8))


def test_reverse_kl_of_a_known_histogram():
    mixture = mixtures.ring()
    # 300 points at mode 0, 100 at mode 1: p = (3/4, 1/4) over K = 8 modes.
    points = np.concatenate([np.tile(mixture.centres[0], (300, 1)),
                             np.tile(mixture.centres[1], (100, 1))])
    m = mixture_metrics(points, mixture.centres, mixture.std)
    expected = 0.75 * np.log(0.75 * 8) + 0.25 * np.log(0.25 * 8)
    assert m["modes"] == 2 and m["reverse_kl"] == pytest.approx(expected)


def test_points_off_the_modes_are_low_quality():
    mixture = mixtures.ring()
    points = np.zeros((100, 2))  # The centre of the ring: distance 1 from every mode.
    m = mixture_metrics(points, mixture.centres, mixture.std)
    assert m == {"modes": 0, "num_modes": 8, "high_quality": 0.0, "reverse_kl": None,
                 "num_samples": 100}


def test_threshold_is_three_standard_deviations():
    mixture = mixtures.grid()
    inside = mixture.centres[:1] + [[0.149, 0.0]]
    outside = mixture.centres[:1] + [[0.151, 0.0]]
    assert mixture_metrics(inside, mixture.centres, 0.05)["high_quality"] == 1.0
    assert mixture_metrics(outside, mixture.centres, 0.05)["high_quality"] == 0.0


def test_non_finite_samples_count_as_low_quality():
    mixture = mixtures.ring()
    points = np.concatenate([mixture.centres, [[np.nan, 0.0], [np.inf, 1.0]]])
    m = mixture_metrics(points, mixture.centres, mixture.std)
    assert m["modes"] == 8 and m["high_quality"] == pytest.approx(8 / 10)


def test_mode_accuracy_counts_points_on_the_mode_asked_for():
    from gan_jax.eval.mixtures import mode_accuracy

    mixture = mixtures.ring()
    modes = np.arange(4000) % 8
    points = np.asarray(mixture.draw_modes(jax.random.PRNGKey(1), modes))
    # A perfect conditional sampler: every point within 3 std is on its own mode.
    assert mode_accuracy(points, modes, mixture.centres, mixture.std) == pytest.approx(
        P_WITHIN_3STD, abs=0.01)
    # Every point sent to the next mode: high quality, but never the mode asked for.
    assert mode_accuracy(points, (modes + 1) % 8, mixture.centres, mixture.std) == 0.0
    labelled, labels = mixture.draw_labelled(jax.random.PRNGKey(2), 500)
    assert mode_accuracy(np.asarray(labelled), np.asarray(labels), mixture.centres,
                         mixture.std) > 0.95
