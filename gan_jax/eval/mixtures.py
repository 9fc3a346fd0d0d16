"""Mode-collapse metrics for Gaussian mixtures (PacGAN's protocol).

A generated point is *high quality* when it lies within `num_std` (3) standard deviations of
its nearest centre. A mode is *captured* when at least one high-quality point is nearest to
it. The *reverse KL* compares the histogram of high-quality points over modes with the true,
uniform mode distribution: KL(generated || uniform) = sum_k p_k log(p_k * K), natural log.
It is 0 for perfectly balanced modes and log K when every high-quality point sits in one mode;
it is undefined (reported as None) when there is no high-quality point at all.
"""

from __future__ import annotations

import numpy as np

from gan_jax.eval.metrics import kl_to_uniform


def mode_assignments(points: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each point's nearest centre, and the distance to it (computed in float64)."""
    points = np.asarray(points, np.float64)
    distances = np.linalg.norm(points[:, None, :] - centres[None, :, :], axis=-1)
    nearest = np.argmin(distances, axis=-1)
    return nearest, distances[np.arange(len(points)), nearest]


def _high_quality(points: np.ndarray, centres: np.ndarray, std: float, num_std: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(high-quality points per mode, whether each point is high quality)."""
    finite = np.all(np.isfinite(points), axis=-1)
    nearest, distance = mode_assignments(np.where(finite[:, None], points, 0.0), centres)
    high_quality = finite & (distance <= num_std * std)
    return np.bincount(nearest[high_quality], minlength=len(centres)), high_quality


def high_quality_counts(points: np.ndarray, centres: np.ndarray, std: float,
                        num_std: float = 3.0) -> np.ndarray:
    """The number of high-quality points of each mode (0: the mode is not captured)."""
    return _high_quality(np.asarray(points, np.float64), centres, std, num_std)[0]


def mixture_metrics(
    points: np.ndarray, centres: np.ndarray, std: float, num_std: float = 3.0
) -> dict[str, float | int | None]:
    """Modes captured, high-quality fraction and reverse KL of `points` ([N, 2])."""
    points = np.asarray(points, np.float64)
    if points.ndim != 2 or points.shape[1] != centres.shape[1] or not len(points):
        raise ValueError(f"expected points of shape [N>0, {centres.shape[1]}], got {points.shape}")
    num_modes = len(centres)
    counts, high_quality = _high_quality(points, centres, std, num_std)
    reverse_kl = kl_to_uniform(counts)
    return {
        "modes": int(np.count_nonzero(counts)),
        "num_modes": num_modes,
        "high_quality": float(np.mean(high_quality)),
        "reverse_kl": reverse_kl,
        "num_samples": len(points),
    }


def mode_accuracy(points: np.ndarray, labels: np.ndarray, centres: np.ndarray, std: float,
                  num_std: float = 3.0) -> float:
    """For a GAN conditioned on modes: the share of points made for mode k that land on mode k
    (nearest centre k, within `num_std` standard deviations of it)."""
    points = np.asarray(points, np.float64)
    finite = np.all(np.isfinite(points), axis=-1)
    nearest, distance = mode_assignments(np.where(finite[:, None], points, 0.0), centres)
    return float(np.mean(finite & (distance <= num_std * std) & (nearest == labels)))
