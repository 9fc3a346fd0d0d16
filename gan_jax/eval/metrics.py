"""Sample-quality metrics as pure functions of feature (or class-probability) arrays.

Any feature extractor plugs in: the functions see only [num, dim] arrays. They run on the
host in float64 with NumPy/SciPy; subsets for KID are drawn from a JAX key.

- `FeatureStats`: mean and covariance accumulated in float64 over batches (streaming).
- `frechet_distance`: ||mu1 - mu2||^2 + Tr S1 + Tr S2 - 2 Tr sqrt(S1 S2).
- `kernel_distance`: KID, unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3, over subsets.
- `inception_score`: exp E_x KL(p(y|x) || p(y)), over splits.
- `precision_recall`: improved precision and recall (Kynkaanniemi et al., 2019).
- `density_coverage`: density and coverage (Naeem et al., 2020).
- `mode_coverage`, `stacked_mnist_modes`: modes hit and KL(generated modes || uniform).
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np
from scipy import linalg


@dataclasses.dataclass
class FeatureStats:
    """Streaming float64 mean and (unbiased) covariance of feature vectors."""

    dim: int
    count: int = 0
    total: np.ndarray | None = None
    outer: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.total is None:
            self.total = np.zeros(self.dim, np.float64)
            self.outer = np.zeros((self.dim, self.dim), np.float64)

    def update(self, features: np.ndarray) -> FeatureStats:
        features = np.asarray(features, np.float64).reshape(-1, self.dim)
        self.count += features.shape[0]
        self.total += features.sum(axis=0)
        self.outer += features.T @ features
        return self

    @property
    def mean(self) -> np.ndarray:
        return self.total / self.count

    @property
    def cov(self) -> np.ndarray:
        if self.count < 2:
            raise ValueError(f"covariance needs at least 2 samples, got {self.count}")
        mean = self.mean
        return (self.outer - self.count * np.outer(mean, mean)) / (self.count - 1)


def _check_covariance(eigenvalues: np.ndarray, name: str) -> None:
    """Eigenvalues below zero by round-off are fine (relative to the largest, or absolute for
    the near-zero covariance of identical samples); a clearly negative one is an error."""
    if eigenvalues[0] < -(1e-6 * abs(eigenvalues[-1]) + 1e-9):
        raise ValueError(f"{name} is not a covariance: it has the negative eigenvalue "
                         f"{eigenvalues[0]:.3g}")


def _covariance_root(sigma: np.ndarray, name: str) -> np.ndarray:
    """The symmetric square root of a covariance, from its eigendecomposition."""
    values, vectors = linalg.eigh((sigma + sigma.T) / 2, driver="evd")  # Divide and conquer.
    _check_covariance(values, name)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
                     ) -> float:
    """Fréchet distance between Gaussians N(mu1, sigma1) and N(mu2, sigma2), in float64.

    Tr sqrt(S1 S2) is the sum of the singular values of S1^1/2 S2^1/2 (its square is
    S1^1/2 S2 S1^1/2), from two symmetric eigendecompositions and one SVD: the reference FID
    code's general `sqrtm(S1 @ S2)` up to round-off on full-rank covariances, 2-3 times
    faster at 2,048-d, and exact to round-off on the singular covariances of fewer samples
    than dimensions, where `sqrtm` is not (benchmarks/frechet_distance.py).
    """
    mu1, mu2 = np.atleast_1d(np.float64(mu1)), np.atleast_1d(np.float64(mu2))
    sigma1, sigma2 = np.atleast_2d(np.float64(sigma1)), np.atleast_2d(np.float64(sigma2))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"shape mismatch: means {mu1.shape} vs {mu2.shape}, covariances "
                         f"{sigma1.shape} vs {sigma2.shape}")
    for name, array in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        if not np.isfinite(array).all():
            raise ValueError(f"{name} has values that are not finite")
    roots = _covariance_root(sigma1, "sigma1") @ _covariance_root(sigma2, "sigma2")
    trace_root = float(linalg.svdvals(roots).sum())
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_root)


def frechet_distance_from_stats(a: FeatureStats, b: FeatureStats) -> float:
    return frechet_distance(a.mean, a.cov, b.mean, b.cov)


def _polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 between samples x [m, d] and y [n, d] with the cubic kernel."""
    m, n = x.shape[0], y.shape[0]
    k_xx, k_yy, k_xy = _polynomial_kernel(x, x), _polynomial_kernel(y, y), _polynomial_kernel(x, y)
    return float((k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
                 + (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
                 - 2.0 * k_xy.mean())


def kernel_distance(real: np.ndarray, fake: np.ndarray, key: jax.Array, num_subsets: int = 100,
                    subset_size: int = 1000) -> tuple[float, float]:
    """KID: mean and std of the unbiased MMD^2 over `num_subsets` random subsets of
    `subset_size` (capped at the smaller sample) drawn without replacement from each set."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    size = min(subset_size, real.shape[0], fake.shape[0])
    if size < 2:
        raise ValueError("KID needs at least 2 samples in each set")
    values = []
    for key_i in jax.random.split(key, num_subsets):
        real_key, fake_key = jax.random.split(key_i)
        r = np.asarray(jax.random.choice(real_key, real.shape[0], (size,), replace=False))
        f = np.asarray(jax.random.choice(fake_key, fake.shape[0], (size,), replace=False))
        values.append(mmd2_unbiased(real[r], fake[f]))
    return float(np.mean(values)), float(np.std(values))


def inception_score(probs: np.ndarray, num_splits: int = 10) -> tuple[float, float]:
    """Mean and std over `num_splits` equal parts of exp E_x KL(p(y|x) || p(y))."""
    probs = np.asarray(probs, np.float64)
    scores = []
    for part in np.array_split(probs, num_splits):
        marginal = part.mean(axis=0, keepdims=True)
        # p log(p / q) with 0 log 0 = 0.
        ratio = np.where(part > 0, part / np.where(marginal > 0, marginal, 1.0), 1.0)
        kl = np.sum(part * np.log(ratio), axis=1)
        scores.append(np.exp(kl.mean()))
    return float(np.mean(scores)), float(np.std(scores))


def _distance_blocks(a: np.ndarray, b: np.ndarray, chunk: int = 2048):
    """Yields (start, Euclidean distances [rows, len(b)]) for row chunks of `a`, so memory
    stays at chunk x len(b) (50k x 50k distances would be 20 GB)."""
    b_sq = np.sum(b * b, axis=1)
    for start in range(0, a.shape[0], chunk):
        block = a[start : start + chunk]
        sq = np.sum(block * block, axis=1)[:, None] + b_sq[None, :] - 2.0 * block @ b.T
        yield start, np.sqrt(np.maximum(sq, 0.0))


def knn_radii(features: np.ndarray, k: int) -> np.ndarray:
    """Distance from each point to its k-th nearest other point of the same set."""
    radii = np.empty(features.shape[0])
    for start, distances in _distance_blocks(features, features):
        # Index k: index 0 is the point itself (distance 0).
        radii[start : start + distances.shape[0]] = np.partition(distances, k, axis=1)[:, k]
    return radii


def _within_any_ball(points: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """For each point, whether it lies in at least one ball (centre, radius)."""
    inside = np.empty(points.shape[0], bool)
    for start, distances in _distance_blocks(points, centres):
        inside[start : start + distances.shape[0]] = np.any(distances <= radii[None, :], axis=1)
    return inside


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> dict[str, float]:
    """Improved precision (fake samples inside the real manifold) and recall (real samples
    inside the fake manifold); a manifold is the union of balls reaching each point's k-th
    nearest neighbour."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    precision = np.mean(_within_any_ball(fake, real, knn_radii(real, k)))
    recall = np.mean(_within_any_ball(real, fake, knn_radii(fake, k)))
    return {"precision": float(precision), "recall": float(recall)}


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = 5) -> dict[str, float]:
    """Density: how many real-sample balls each fake sample falls in, over k (1 in
    expectation for identical distributions). Coverage: the fraction of real samples whose
    ball holds at least one fake sample."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    radii = knn_radii(real, k)
    balls_hit = 0
    for _, distances in _distance_blocks(fake, real):
        balls_hit += int(np.sum(distances <= radii[None, :]))
    covered = np.empty(real.shape[0], bool)
    for start, distances in _distance_blocks(real, fake):  # [real rows, fake]
        rows = slice(start, start + distances.shape[0])
        covered[rows] = distances.min(axis=1) <= radii[rows]
    return {"density": balls_hit / (k * fake.shape[0]), "coverage": float(np.mean(covered))}


def kl_to_uniform(counts: np.ndarray) -> float | None:
    """KL(p || uniform) of the histogram `counts` over its K bins, natural log: 0 when
    balanced, ln K when everything is in one bin; None for an empty histogram."""
    counts = np.asarray(counts, np.float64)
    if not counts.sum():
        return None
    p = counts / counts.sum()
    nonzero = p > 0
    return float(np.sum(p[nonzero] * np.log(p[nonzero] * len(counts))))


def mode_coverage(mode_ids: np.ndarray, num_modes: int) -> dict[str, float | int | None]:
    """Modes hit at least once among samples labelled `mode_ids` (ints in [0, num_modes)), and
    KL(generated mode distribution || uniform)."""
    mode_ids = np.asarray(mode_ids)
    if mode_ids.size and (mode_ids.min() < 0 or mode_ids.max() >= num_modes):
        raise ValueError(f"mode ids must lie in [0, {num_modes})")
    counts = np.bincount(mode_ids.ravel(), minlength=num_modes)
    return {"modes": int(np.count_nonzero(counts)), "num_modes": num_modes,
            "kl": kl_to_uniform(counts), "num_samples": int(mode_ids.size)}


def stacked_mnist_modes(channel_classes: np.ndarray) -> dict[str, float | int | None]:
    """Stacked MNIST: the mode of a sample is the triple of digit classes predicted on its R,
    G and B channels ([N, 3] ints in 0..9), one of 1,000."""
    channel_classes = np.asarray(channel_classes)
    if channel_classes.ndim != 2 or channel_classes.shape[1] != 3:
        raise ValueError(f"expected [N, 3] digit classes, got shape {channel_classes.shape}")
    return mode_coverage(channel_classes @ np.array([100, 10, 1]), 1000)
