"""Perceptual path length in W (Karras et al. 2019), measured with the run's feature extractor.

For pairs of latents z0, z1 mapped to w0, w1 and t ~ U(0, 1), the images at lerp(w0, w1, t)
and lerp(w0, w1, t + epsilon) (same noise) are compared in the extractor's feature space:
d = |f(a) - f(b)|^2 / epsilon^2. The metric is the mean of d over the pairs between its 1st
and 99th percentiles, as StyleGAN reports it. StyleGAN measures d with LPIPS on VGG16
features; here the features are the evaluation extractor's (a digit classifier, or
InceptionV3), so the numbers are named `ppl_w_<extractor>_n<count>` and compare runs
evaluated with the same extractor only, never published PPL figures.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gan_jax.eval.extractors import FeatureExtractor

EPSILON = 1e-4
# Pairs outside these percentiles of d are discarded (StyleGAN's outlier rule).
KEEP_PERCENTILES = (1.0, 99.0)


def path_lengths(extractor: FeatureExtractor,
                 make_pairs: Callable[[int, int], tuple[np.ndarray, np.ndarray]], num: int,
                 batch_size: int, epsilon: float = EPSILON) -> np.ndarray:
    """d of `num` pairs; `make_pairs(start, size)` gives the images at t and t + epsilon,
    float [size, H, W, C] in [-1, 1]."""
    lengths = []
    for start in range(0, num, batch_size):
        a, b = make_pairs(start, min(batch_size, num - start))
        fa = extractor.of_pixels((np.asarray(a, np.float32) + 1.0) * 127.5).features
        fb = extractor.of_pixels((np.asarray(b, np.float32) + 1.0) * 127.5).features
        lengths.append(np.sum(np.square(fa.astype(np.float64) - fb), axis=-1) / epsilon**2)
    return np.concatenate(lengths)


def perceptual_path_length(lengths: np.ndarray) -> float:
    """The mean of `lengths` between the KEEP_PERCENTILES."""
    lo, hi = np.percentile(lengths, KEEP_PERCENTILES)
    return float(np.mean(lengths[(lengths >= lo) & (lengths <= hi)]))
