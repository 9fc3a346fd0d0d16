"""The Fréchet distance's matrix square root: the library's route (two symmetric
eigendecompositions and an SVD) against pytorch-fid's general `scipy.linalg.sqrtm(S1 @ S2)`,
side by side, on 2,048-d covariances of pooled-ReLU-like features.

    python benchmarks/frechet_distance.py --dim 2048 --samples 10000,1000 --repeats 3

Prints, for each sample count, the median seconds of each route over the repeats and the
relative difference of their distances, and each route's FD of a set against itself, whose
exact value is 0: with fewer samples than dimensions the covariances are singular, where
`sqrtm` is known to lose accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import jax
import numpy as np
from scipy import linalg

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gan_jax.commands.benchmark import machine_info  # noqa: E402
from gan_jax.eval.metrics import frechet_distance  # noqa: E402


def sqrtm_route(mu1, sigma1, mu2, sigma2) -> float:
    """pytorch-fid's calculate_frechet_distance, rewritten: the general matrix square root."""
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * 1e-6
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2)
                 - 2.0 * np.trace(np.real(covmean)))


def features(key: jax.Array, mixing: np.ndarray, num: int) -> np.ndarray:
    """Correlated, non-negative features, as pooled ReLUs are."""
    noise = np.asarray(jax.random.normal(key, (num, mixing.shape[0])), np.float64)
    return np.maximum(noise @ mixing + 0.3, 0.0)


def timed(fn, *args, repeats: int) -> tuple[float, float]:
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn(*args)
        times.append(time.perf_counter() - start)
    return value, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--samples", default="10000,1000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    keys = jax.random.split(jax.random.PRNGKey(args.seed), 4)
    d = args.dim
    mixing = np.asarray(jax.random.normal(keys[0], (d, d)), np.float64) / np.sqrt(d)
    other = mixing + 0.05 * np.asarray(jax.random.normal(keys[1], (d, d)), np.float64) / np.sqrt(d)
    rows = []
    for num in (int(n) for n in args.samples.split(",")):
        a, b = features(keys[2], mixing, num), features(keys[3], other, num)
        stats = (a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))
        ours, ours_s = timed(frechet_distance, *stats, repeats=args.repeats)
        theirs, theirs_s = timed(sqrtm_route, *stats, repeats=args.repeats)
        rows.append({"samples": num, "dim": d, "ours_s": ours_s, "sqrtm_s": theirs_s,
                     "speedup": theirs_s / ours_s, "fd_ours": ours, "fd_sqrtm": theirs,
                     "relative_difference": abs(ours - theirs) / abs(ours),
                     "fd_self_ours": frechet_distance(*stats[:2], *stats[:2]),
                     "fd_self_sqrtm": sqrtm_route(*stats[:2], *stats[:2])})
    print(json.dumps({"repeats": args.repeats, "rows": rows, "machine": machine_info()},
                     indent=1))


if __name__ == "__main__":
    main()
