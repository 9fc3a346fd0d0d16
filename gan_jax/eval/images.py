"""Image-GAN evaluation: features of generated and real images, compared by the metrics.

Generated images are quantised to uint8 exactly as the real data is stored (round, clip to
[0, 255]) before they reach the extractor, so generated and real images go through identical
preprocessing. Feature means and covariances are accumulated in float64 over batches; the
features themselves are kept only when a metric needs them (kid, pr, dc).

Metric names say the extractor, the sample count and the reference split, e.g.
`fd_mnist_cnn_n10000_test`, `kid_mnist_cnn_n10000_test` (with `_std`), `is_mnist_cnn_n10000`,
`modes_mnist_cnn_n26000`.

Class-conditional generators are evaluated on class-balanced samples, and add
`class_accuracy_<extractor>_n<n>` (the share of samples made for class k that the extractor,
a classifier of the same classes, assigns to class k) and `intra_fd_<extractor>_n<n>_<split>`
(the feature distance between the samples of class k and the real images of class k, averaged
over classes).

Reference (real) statistics are cached in `.npz` files named
`<dataset>_<split>_<extractor>_n<count>.npz`, which also hold the extractor's weight digest:
a cache written with other weights is recomputed. They hold `mu` and `sigma` too, so
pytorch-fid and clean-fid read them; their statistics files are read by
`read_fid_statistics` (`eval.reference_stats`: fd against them is named
`fd_<extractor>_n<n>_stats-<file stem>`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from typing import Any

import jax
import numpy as np

from gan_jax.config import ConfigError, did_you_mean
from gan_jax.eval import metrics as M
from gan_jax.eval.extractors import FeatureExtractor

# The table below registers every image metric.
# Reference images that a dataset composes (Stacked MNIST) are drawn with this fixed key, so
# every run and every seed compares against the same real sample.
REFERENCE_KEY = 20_191_010


@dataclasses.dataclass
class FeatureSet:
    """What the metrics need of one set of images."""

    stats: M.FeatureStats
    features: np.ndarray | None  # [n, d] float32, when kept
    probs: np.ndarray | None  # [n, k] or [n, C, k]
    labels: np.ndarray | None = None  # [n] int, the class of each image, when known

    @property
    def count(self) -> int:
        return self.stats.count


def extract(extractor: FeatureExtractor, batches: Iterator[np.ndarray],
            keep_features: bool) -> FeatureSet:
    """Streams uint8 image batches through the extractor."""
    stats, kept, probs = None, [], []
    for images in batches:
        out = extractor(images)
        if stats is None:
            stats = M.FeatureStats(out.features.shape[-1])
        stats.update(out.features)
        if keep_features:
            kept.append(out.features.astype(np.float32))
        if out.probs is not None:
            probs.append(out.probs)
    if stats is None:
        raise ValueError("no images to extract features from")
    return FeatureSet(stats, np.concatenate(kept) if keep_features else None,
                      np.concatenate(probs) if probs else None)


def reference_path(cache_dir: str, dataset: str, split: str, extractor: str, count: int) -> str:
    name = f"{dataset}_{split}_{extractor}_n{count}.npz".replace("/", "-").replace(":", "-")
    return os.path.join(cache_dir, name)


def read_fid_statistics(path: str, dim: int | None = None,
                        extractor: str = "the extractor") -> tuple[np.ndarray, np.ndarray]:
    """(mu, sigma) of a statistics file as pytorch-fid and clean-fid write them (an `.npz`
    with `mu` [d] and `sigma` [d, d]); ConfigError for a missing or malformed file, or one of
    another feature size than `dim`."""
    key = "eval.reference_stats"
    if not os.path.isfile(path):
        raise ConfigError(f"{key}: no such statistics file {path!r}")
    try:
        with np.load(path, allow_pickle=False) as f:
            found = sorted(f.files)
            if "mu" not in f or "sigma" not in f:
                raise ConfigError(f"{key}: {path} holds {', '.join(found)}, not the mu and "
                                  "sigma of a pytorch-fid or clean-fid statistics file")
            mu, sigma = np.asarray(f["mu"], np.float64), np.asarray(f["sigma"], np.float64)
    except (OSError, ValueError) as error:
        raise ConfigError(f"{key}: cannot read {path} as an .npz: {error}") from error
    if mu.ndim != 1 or sigma.shape != (mu.shape[0],) * 2:
        raise ConfigError(f"{key}: {path} has mu {mu.shape} and sigma {sigma.shape}; expected "
                          "[d] and [d, d]")
    if dim is not None and mu.shape[0] != dim:
        raise ConfigError(f"{key}: {path} holds {mu.shape[0]}-d statistics, but {extractor} "
                          f"gives {dim}-d features; use statistics of the same extractor")
    return mu, sigma


def write_fid_statistics(path: str, stats: M.FeatureStats) -> None:
    """Writes `mu` and `sigma` as pytorch-fid and clean-fid read them, atomically."""
    tmp = f"{path}.tmp.npz"
    np.savez(tmp, mu=stats.mean, sigma=stats.cov)
    os.replace(tmp, path)


def save_reference(path: str, reference: FeatureSet, fingerprint: str) -> None:
    """Atomically writes the statistics and features (no pickled objects); `mu` and `sigma`
    make the file a pytorch-fid / clean-fid statistics file too."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    arrays = {"count": np.int64(reference.count), "total": reference.stats.total,
              "outer": reference.stats.outer, "fingerprint": np.array(fingerprint)}
    if reference.count > 1:
        arrays |= {"mu": reference.stats.mean, "sigma": reference.stats.cov}
    if reference.features is not None:
        arrays["features"] = reference.features
    if reference.probs is not None:
        arrays["probs"] = reference.probs
    if reference.labels is not None:
        arrays["labels"] = reference.labels
    tmp = f"{path}.tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def load_reference(path: str, fingerprint: str, keep_features: bool,
                   need_labels: bool = False) -> FeatureSet | None:
    """The cached reference, or None if absent, from other weights, or lacking features (or
    labels, when `need_labels`)."""
    if not os.path.exists(path):
        return None
    with np.load(path, allow_pickle=False) as f:
        if str(f["fingerprint"]) != fingerprint or (keep_features and "features" not in f):
            return None
        if need_labels and "labels" not in f:
            return None
        dim = f["total"].shape[0]
        stats = M.FeatureStats(dim, int(f["count"]), f["total"], f["outer"])
        return FeatureSet(stats, f["features"] if "features" in f else None,
                          f["probs"] if "probs" in f else None,
                          f["labels"] if "labels" in f else None)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """What a metric compares: generated and real features, and how to name the result."""

    fake: FeatureSet
    real: FeatureSet
    extractor: str
    split: str
    key: jax.Array  # for metrics that subsample
    stacked: bool  # the dataset composes Stacked MNIST images

    @property
    def against(self) -> str:
        """`<extractor>_n<count>_<split>`: the name tail of a metric against real images."""
        return f"{self.extractor}_n{self.fake.count}_{self.split}"

    @property
    def alone(self) -> str:
        """`<extractor>_n<count>`: the name tail of a metric of the samples alone."""
        return f"{self.extractor}_n{self.fake.count}"


def frechet(c: Comparison) -> dict[str, float]:
    return {f"fd_{c.against}": M.frechet_distance_from_stats(c.fake.stats, c.real.stats)}


def kernel(c: Comparison) -> dict[str, float]:
    mean, std = M.kernel_distance(c.real.features, c.fake.features, c.key)
    return {f"kid_{c.against}": mean, f"kid_{c.against}_std": std}


def inception_score(c: Comparison) -> dict[str, float]:
    if c.fake.probs is None or c.fake.probs.ndim != 2:
        raise ConfigError(f"eval.metrics: 'is' needs class probabilities of whole images, "
                          f"which {c.extractor} does not give for these images")
    mean, std = M.inception_score(c.fake.probs)
    return {f"is_{c.alone}": mean, f"is_{c.alone}_std": std}


def precision_recall(c: Comparison) -> dict[str, float]:
    return {f"{name}_{c.against}": value
            for name, value in M.precision_recall(c.real.features, c.fake.features).items()}


def density_coverage(c: Comparison) -> dict[str, float]:
    return {f"{name}_{c.against}": value
            for name, value in M.density_coverage(c.real.features, c.fake.features).items()}


def stacked_modes(c: Comparison) -> dict[str, float | int]:
    if not c.stacked or c.fake.probs is None or c.fake.probs.ndim != 3:
        raise ConfigError("eval.metrics: 'modes' counts Stacked MNIST modes and needs a digit "
                          "classifier read channel by channel")
    counted = M.stacked_mnist_modes(np.argmax(c.fake.probs, axis=-1))
    return {f"modes_{c.alone}": counted["modes"], f"kl_modes_{c.alone}": counted["kl"]}


@dataclasses.dataclass(frozen=True)
class ImageMetric:
    """An entry of the metric table."""

    # comparison -> {name: value}; None for a metric of the generator itself, which
    # gan_jax.runs.evaluation computes (it holds the model).
    compute: Callable[[Comparison], dict[str, float | int]] | None
    keeps_features: bool = False  # needs every image's features, not just their moments


IMAGE_METRICS: dict[str, ImageMetric] = {
    "fd": ImageMetric(frechet),  # Frechet distance of the feature distributions
    "kid": ImageMetric(kernel, keeps_features=True),  # kernel (Inception) distance
    "is": ImageMetric(inception_score),  # Inception Score of the extractor's classes
    "pr": ImageMetric(precision_recall, keeps_features=True),  # improved precision, recall
    "dc": ImageMetric(density_coverage, keeps_features=True),  # density and coverage
    "modes": ImageMetric(stacked_modes),  # Stacked MNIST modes and KL (3-channel digits)
    "ppl": ImageMetric(None),  # perceptual path length in W (style-based generators)
}


def parse_metrics(text: str) -> tuple[str, ...]:
    """`"fd,kid,is"` -> ("fd", "kid", "is"), checking each name."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    for name in names:
        if name not in IMAGE_METRICS:
            raise ConfigError(f"eval.metrics: unknown metric {name!r}"
                              f"{did_you_mean(name, list(IMAGE_METRICS))} (known: "
                              f"{', '.join(IMAGE_METRICS)})")
    return names


def compare(metrics: tuple[str, ...], fake: FeatureSet, real: FeatureSet, extractor: str,
            split: str, key: jax.Array, stacked: bool) -> dict[str, float | int]:
    """The requested metrics of `fake` against `real`, named as the module docstring says."""
    comparison = Comparison(fake, real, extractor, split, key, stacked)
    out: dict[str, float | int] = {}
    for name in metrics:
        if IMAGE_METRICS[name].compute is not None:
            out |= IMAGE_METRICS[name].compute(comparison)
    return out


def compare_classes(fake: FeatureSet, real: FeatureSet, num_classes: int, extractor: str,
                    split: str) -> dict[str, float]:
    """class_accuracy (when the extractor classifies `num_classes` classes) and intra_fd
    (when the real images have labels) of class-conditional samples."""
    n, out = fake.count, {}
    if fake.probs is not None and fake.probs.ndim == 2 and fake.probs.shape[1] == num_classes:
        predicted = np.argmax(fake.probs, axis=-1)
        out[f"class_accuracy_{extractor}_n{n}"] = float(np.mean(predicted == fake.labels))
    if real.labels is not None and real.features is not None:
        distances = []
        for k in range(num_classes):
            a, b = fake.features[fake.labels == k], real.features[real.labels == k]
            if min(len(a), len(b)) < 2:
                continue  # A class too rare to estimate a covariance for.
            distances.append(M.frechet_distance(a.mean(0), np.cov(a, rowvar=False),
                                                b.mean(0), np.cov(b, rowvar=False)))
        if distances:
            out[f"intra_fd_{extractor}_n{n}_{split}"] = float(np.mean(distances))
    return out


def batched(produce: Callable[[int, int], np.ndarray], num: int,
            batch_size: int) -> Iterator[np.ndarray]:
    """`produce(start, size)` for consecutive slices covering `num` items."""
    for start in range(0, num, batch_size):
        yield produce(start, min(batch_size, num - start))


@dataclasses.dataclass(frozen=True, eq=False)
class ImageEvaluator:
    """Compares images with a dataset split through one extractor."""

    extractor: FeatureExtractor
    metrics: tuple[str, ...]
    dataset: Any  # An ImageDataset of the reference split.
    dataset_name: str
    split: str
    cache_dir: str
    batch_size: int
    # Published statistics to take fd against too: (mu, sigma, the name tail), e.g. a paper's.
    reference_stats: tuple[np.ndarray, np.ndarray, str] | None = None

    @property
    def keep_features(self) -> bool:
        return any(IMAGE_METRICS[m].keeps_features for m in self.metrics)

    @property
    def stacked(self) -> bool:
        return hasattr(self.dataset, "stack")

    def reference(self, num: int, with_labels: bool = False) -> FeatureSet:
        """Features of up to `num` real images of the split (cached on disk); with their
        labels and features for per-class metrics when `with_labels`."""
        arrays = self.dataset.load()
        key = jax.random.PRNGKey(REFERENCE_KEY)
        images = self.dataset.reference_images(arrays, key, num)
        count = images.shape[0]
        keep = self.keep_features or with_labels
        path = reference_path(self.cache_dir, self.dataset_name, self.split,
                              self.extractor.name, count)
        cached = load_reference(path, self.extractor.fingerprint, keep, with_labels)
        if cached is not None:
            return cached
        reference = extract(self.extractor,
                            batched(lambda s, n: images[s : s + n], count, self.batch_size),
                            keep)
        reference.labels = self.dataset.reference_labels(arrays, key, num)
        save_reference(path, reference, self.extractor.fingerprint)
        return reference

    def evaluate(self, produce: Callable[[int, int], np.ndarray], num: int,
                 key: jax.Array, labels: np.ndarray | None = None) -> dict[str, float | int]:
        """Metrics of `num` images made by `produce(start, size)` (uint8) against the split;
        with the class `labels` they were made for, also the per-class metrics."""
        conditional = labels is not None
        real = self.reference(num, conditional)
        fake = extract(self.extractor, batched(produce, num, self.batch_size),
                       self.keep_features or conditional)
        out = compare(self.metrics, fake, real, self.extractor.name, self.split, key,
                      self.stacked)
        if self.reference_stats is not None and "fd" in self.metrics:
            mu, sigma, label = self.reference_stats
            out[f"fd_{self.extractor.name}_n{fake.count}_{label}"] = M.frechet_distance(
                fake.stats.mean, fake.stats.cov, mu, sigma)
        if conditional:
            fake.labels = np.asarray(labels)
            out |= compare_classes(fake, real, int(self.dataset.num_classes),
                                   self.extractor.name, self.split)
        return out
