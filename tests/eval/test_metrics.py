"""The metric toolkit against hand-computed values, SciPy, and the papers' behaviour."""

import jax
import numpy as np
import pytest
from scipy import linalg

from gan_jax.eval.metrics import (
    FeatureStats,
    density_coverage,
    frechet_distance,
    frechet_distance_from_stats,
    inception_score,
    kernel_distance,
    mmd2_unbiased,
    mode_coverage,
    precision_recall,
    stacked_mnist_modes,
)


def _gaussian(seed, num, dim, shift=0.0, scale=1.0):
    rng = np.random.default_rng(seed)  # A local, seeded generator: test data only.
    return shift + scale * rng.standard_normal((num, dim))


def test_streaming_statistics_equal_one_shot():
    features = _gaussian(0, 1000, 7, shift=3.0)
    stats = FeatureStats(7)
    for batch in np.array_split(features.astype(np.float32), [10, 333, 900]):
        stats.update(batch)
    assert stats.count == 1000
    np.testing.assert_allclose(stats.mean, features.astype(np.float32).mean(0, dtype=np.float64),
                               rtol=1e-12)
    np.testing.assert_allclose(stats.cov, np.cov(features.astype(np.float32), rowvar=False),
                               rtol=1e-9, atol=1e-12)


def test_frechet_distance_hand_computed():
    # 1D: (0 - 1)^2 + 4 + 1 - 2 sqrt(4 * 1) = 2.
    assert frechet_distance(np.zeros(1), np.eye(1) * 4, np.ones(1), np.eye(1)) == pytest.approx(2)
    # Diagonal: |(1, 2)|^2 + (4 + 9) + (1 + 1) - 2 (2 + 3) = 10.
    fd = frechet_distance(np.zeros(2), np.diag([4.0, 9.0]), np.array([1.0, 2.0]), np.eye(2))
    assert fd == pytest.approx(10)
    assert frechet_distance(np.ones(3), np.eye(3), np.ones(3), np.eye(3)) == pytest.approx(0,
                                                                                        abs=1e-9)


def test_frechet_distance_equals_the_general_matrix_square_root():
    a, b = _gaussian(1, 400, 6), _gaussian(2, 400, 6, shift=0.3, scale=1.5) @ np.triu(
        np.ones((6, 6)))
    mu1, s1, mu2, s2 = a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False)
    # The reference FID code's route: Tr of scipy's general sqrtm of the non-symmetric S1 S2.
    direct = (np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2)
              - 2 * np.trace(linalg.sqrtm(s1 @ s2).real))
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(direct, rel=1e-10)
    stats = [FeatureStats(6).update(x) for x in (a, b)]
    assert frechet_distance_from_stats(*stats) == pytest.approx(direct, rel=1e-8)


def test_frechet_distance_safeguards():
    # Rank-deficient covariances (fewer samples than dimensions): finite, and symmetric in
    # its arguments to round-off, as the distance is.
    a, b = _gaussian(3, 5, 20), _gaussian(4, 5, 20)
    stats_a, stats_b = (a.mean(0), np.cov(a, rowvar=False)), (b.mean(0), np.cov(b, rowvar=False))
    fd = frechet_distance(*stats_a, *stats_b)
    assert np.isfinite(fd) and fd > 0
    assert frechet_distance(*stats_b, *stats_a) == pytest.approx(fd, rel=1e-9)
    # And 0 against itself to round-off (the general sqrtm gives -6e-7 here).
    assert frechet_distance(*stats_a, *stats_a) == pytest.approx(0.0, abs=1e-11)
    # A matrix that is not a covariance (a negative variance) is an error naming it.
    with pytest.raises(ValueError, match="sigma1 is not a covariance: it has the negative "
                                         "eigenvalue -1"):
        frechet_distance(np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="sigma2 is not a covariance"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match="mu2 has values that are not finite"):
        frechet_distance(np.zeros(2), np.eye(2), np.array([0.0, np.nan]), np.eye(2))
    with pytest.raises(ValueError, match="shape mismatch"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))


def test_mmd_hand_computed():
    # k(a, b) = (ab + 1)^3 in 1D. XX off-diagonal: 1; YY: 7^3 = 343; XY: 1, 1, 27, 64.
    x, y = np.array([[0.0], [1.0]]), np.array([[2.0], [3.0]])
    assert mmd2_unbiased(x, y) == pytest.approx(1 + 343 - 2 * 93 / 4)


def test_kid_is_about_zero_for_identical_distributions():
    key = jax.random.PRNGKey(0)
    real, same = _gaussian(5, 600, 16), _gaussian(6, 600, 16)
    shifted = _gaussian(7, 600, 16, shift=0.5)
    kid_same, _ = kernel_distance(real, same, key, num_subsets=20, subset_size=300)
    kid_shifted, std_shifted = kernel_distance(real, shifted, key, num_subsets=20,
                                               subset_size=300)
    assert kid_shifted > 0 and std_shifted > 0
    assert abs(kid_same) < 0.05 * kid_shifted
    # Subsets come from the key: same key, same value.
    assert kernel_distance(real, same, key, 5, 100) == kernel_distance(real, same, key, 5, 100)


def test_inception_score_hand_computed():
    assert inception_score(np.full((50, 10), 0.1), num_splits=5) == pytest.approx((1.0, 0.0))
    # Confident and evenly spread over 10 classes in every split: exactly 10.
    one_hot = np.eye(10)[np.arange(100) % 10]
    assert inception_score(one_hot, num_splits=10) == pytest.approx((10.0, 0.0))
    # p(y) = (0.75, 0.25); KL terms 0.5 ln(2/3) + 0.5 ln 2 and ln(4/3).
    probs = np.array([[0.5, 0.5], [1.0, 0.0]])
    expected = np.exp((0.5 * np.log(2 / 3) + 0.5 * np.log(2) + np.log(4 / 3)) / 2)
    assert inception_score(probs, num_splits=1)[0] == pytest.approx(expected)


def test_precision_recall_and_density_coverage_hand_computed():
    real = np.array([[0.0], [1.0], [2.0], [3.0]])  # k=1 radii: 1 each.
    fake = np.array([[0.5], [10.0]])  # k=1 radii: 9.5 each.
    assert precision_recall(real, fake, k=1) == {"precision": 0.5, "recall": 1.0}
    fake = np.array([[0.5], [0.6], [10.0]])
    # 0.5 and 0.6 each lie in the balls of reals 0 and 1; 10 in none.
    result = density_coverage(real, fake, k=1)
    assert result["density"] == pytest.approx(4 / 3) and result["coverage"] == 0.5


def test_precision_recall_on_gaussians_behave_as_the_paper_describes():
    real = _gaussian(8, 1000, 8)
    same = precision_recall(real, _gaussian(9, 1000, 8))
    assert same["precision"] > 0.6 and same["recall"] > 0.6
    # A generator that covers only the centre: high precision, low recall.
    narrow = precision_recall(real, _gaussian(10, 1000, 8, scale=0.3))
    assert narrow["precision"] > 0.95 and narrow["recall"] < 0.2
    # A generator that spreads too wide: low precision, high recall.
    wide = precision_recall(real, _gaussian(11, 1000, 8, scale=3.0))
    assert wide["precision"] < 0.2 and wide["recall"] > 0.95
    # Far away: neither.
    far = precision_recall(real, _gaussian(12, 1000, 8, shift=20.0))
    assert far == {"precision": 0.0, "recall": 0.0}


def test_density_and_coverage_of_identical_distributions():
    real = _gaussian(13, 1000, 8)
    same = density_coverage(real, _gaussian(14, 1000, 8))
    assert abs(same["density"] - 1.0) < 0.15 and same["coverage"] > 0.9
    narrow = density_coverage(real, _gaussian(15, 1000, 8, scale=0.3))
    assert narrow["density"] > 1.5 and narrow["coverage"] < 0.5


def test_stacked_mnist_mode_counting():
    triples = np.stack(np.meshgrid(*[np.arange(10)] * 3, indexing="ij"), -1).reshape(-1, 3)
    uniform = stacked_mnist_modes(np.concatenate([triples, triples]))  # Every mode twice.
    assert uniform["modes"] == 1000 and uniform["kl"] == pytest.approx(0.0, abs=1e-12)
    collapsed = stacked_mnist_modes(np.tile([[3, 1, 4]], (26_000, 1)))
    assert collapsed["modes"] == 1 and collapsed["kl"] == pytest.approx(np.log(1000))
    # Half the samples on one mode, half on another: KL = ln(1000 / 2).
    two = stacked_mnist_modes(np.array([[0, 0, 0], [9, 9, 9]] * 5))
    assert two["modes"] == 2 and two["kl"] == pytest.approx(np.log(500))
    assert two["num_samples"] == 10
    with pytest.raises(ValueError, match=r"\[N, 3\]"):
        stacked_mnist_modes(np.zeros((4, 2), int))
    with pytest.raises(ValueError, match="mode ids"):
        mode_coverage(np.array([0, 5]), 5)


def test_chunked_neighbourhood_metrics_equal_brute_force(monkeypatch):
    import functools

    from gan_jax.eval import metrics as M

    key_r, key_f = jax.random.split(jax.random.PRNGKey(4))
    real = np.asarray(jax.random.normal(key_r, (150, 5)), np.float64)
    fake = np.asarray(jax.random.normal(key_f, (120, 5)) * 1.3 + 0.2, np.float64)
    d_rr = np.linalg.norm(real[:, None] - real[None], axis=-1)
    d_ff = np.linalg.norm(fake[:, None] - fake[None], axis=-1)
    d_fr = np.linalg.norm(fake[:, None] - real[None], axis=-1)
    r3, f3 = np.sort(d_rr, axis=1)[:, 3], np.sort(d_ff, axis=1)[:, 3]
    r5 = np.sort(d_rr, axis=1)[:, 5]
    expected = {
        "precision": np.mean((d_fr <= r3[None]).any(1)),
        "recall": np.mean((d_fr.T <= f3[None]).any(1)),
        "density": np.sum(d_fr <= r5[None]) / (5 * 120),
        "coverage": np.mean((d_fr <= r5[None]).any(0)),
    }
    # Chunks of 37 rows: several blocks, the last one partial.
    monkeypatch.setattr(M, "_distance_blocks", functools.partial(M._distance_blocks, chunk=37))
    got = {**M.precision_recall(real, fake), **M.density_coverage(real, fake)}
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=1e-12), name


# Against the peers' own code (each skips, saying why, when its package is absent).

def test_precision_recall_density_coverage_equal_prdc():
    prdc = pytest.importorskip("prdc", reason="prdc is not installed (the reference extra)")
    real, fake = _gaussian(20, 300, 16), _gaussian(21, 240, 16, shift=0.4, scale=1.2)
    for k in (3, 5):
        theirs = prdc.compute_prdc(real, fake, nearest_k=k)
        ours = {**precision_recall(real, fake, k), **density_coverage(real, fake, k)}
        # Counts over continuous data (no point lies on a radius), so equal, not close.
        assert ours == pytest.approx({key: float(v) for key, v in theirs.items()}, abs=1e-12)


def test_kid_equals_torch_fidelity_on_whole_sets():
    torch = pytest.importorskip("torch", reason="torch-fidelity needs torch")
    metric_kid = pytest.importorskip("torch_fidelity.metric_kid",
                                     reason="torch-fidelity is not installed")
    real, fake = _gaussian(22, 200, 32), _gaussian(23, 200, 32, shift=0.2)
    # Subsets as large as the sets hold every sample, so the random draws of the two
    # libraries (JAX here, NumPy there) cannot matter: the mean is one unbiased MMD^2.
    mean, std = kernel_distance(real, fake, jax.random.PRNGKey(0), num_subsets=3,
                                subset_size=200)
    theirs = metric_kid.kid_features_to_metric(
        torch.from_numpy(real), torch.from_numpy(fake), kid_subsets=2, kid_subset_size=200,
        verbose=False)
    assert mean == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-9)
    assert std == pytest.approx(0.0, abs=1e-12)


def test_inception_score_equals_torch_fidelity():
    torch = pytest.importorskip("torch", reason="torch-fidelity needs torch")
    metric_isc = pytest.importorskip("torch_fidelity.metric_isc",
                                     reason="torch-fidelity is not installed")
    logits = 3.0 * _gaussian(24, 500, 10)  # 10 splits of 50: both libraries split alike.
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    mean, std = inception_score(probs, num_splits=10)
    theirs = metric_isc.isc_features_to_metric(torch.from_numpy(logits), splits=10,
                                               shuffle=False)
    assert mean == pytest.approx(theirs["inception_score_mean"], rel=1e-10)
    assert std == pytest.approx(theirs["inception_score_std"], rel=1e-8)
