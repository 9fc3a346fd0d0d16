"""Feature extractors for image metrics: a trained classifier (by path), InceptionV3, or
DINOv2 ViT-L/14.

An extractor maps uint8 images [n, H, W, C] to features [n, d] and, when it classifies, class
probabilities [n, k]. Images with 3 channels given to a 1-channel extractor (Stacked MNIST to
the MNIST classifier) are read channel by channel: the features of the channels are
concatenated and the probabilities kept per channel. 1-channel images given to a 3-channel
extractor are repeated over the channels. A classifier resizes images of another size to its
own input size (linear, antialiased), as InceptionV3 does to 299x299.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.config.registry import ConfigError

EXTRACTOR_KINDS = ("classifier", "inception_v3", "dinov2")
DINOV2_RESIZE = "pil_bicubic"  # DINOv2's one resize: dgm-eval's, PIL bicubic to 224.


@dataclasses.dataclass(frozen=True, eq=False)
class Features:
    features: np.ndarray  # [n, d] float32
    probs: np.ndarray | None  # [n, k], or [n, C, k] when read channel by channel


@dataclasses.dataclass(frozen=True, eq=False)
class FeatureExtractor:
    """`apply(images)` takes float32 [n, H, W, input_channels] in [0, 255] and returns
    (features, logits or None); it is jitted once per batch shape."""

    name: str  # Goes into metric names: fd_<name>_..., e.g. mnist_cnn, inception_v3.
    input_channels: int
    fingerprint: str  # A digest of the weights: cached reference statistics must match it.
    apply: Callable[[jax.Array], tuple[jax.Array, jax.Array | None]]
    # A resize on the host of the uint8 images (float32 [0, 255] out), before `apply`.
    host_resize: Callable[[np.ndarray], np.ndarray] | None = None

    def __call__(self, images: np.ndarray) -> Features:
        images = np.asarray(images)
        if images.dtype != np.uint8 or images.ndim != 4:
            raise ValueError(f"expected uint8 [n, H, W, C] images, got {images.dtype} "
                             f"{images.shape}")
        if self.host_resize is not None:
            return self.of_pixels(self.host_resize(images))
        return self.of_pixels(images.astype(np.float32))

    def of_pixels(self, images: Any) -> Features:
        """Features of float32 [n, H, W, C] images in [0, 255], unquantised (for measures of
        tiny image changes, such as the path length)."""
        channels = images.shape[-1]
        if channels == self.input_channels:
            features, logits = self.apply(jnp.asarray(images, jnp.float32))
            return Features(np.asarray(features), _softmax(logits))
        if self.input_channels == 3 and channels == 1:
            features, logits = self.apply(jnp.asarray(np.repeat(images, 3, -1), jnp.float32))
            return Features(np.asarray(features), _softmax(logits))
        if self.input_channels == 1:
            per_channel = [self.apply(jnp.asarray(images[..., c : c + 1], jnp.float32))
                           for c in range(channels)]
            features = np.concatenate([np.asarray(f) for f, _ in per_channel], axis=-1)
            probs = None
            if per_channel[0][1] is not None:
                probs = np.stack([_softmax(logits) for _, logits in per_channel], axis=1)
            return Features(features, probs)
        raise ValueError(f"{self.name} reads {self.input_channels}-channel images, "
                         f"got {channels} channels")


def _softmax(logits: jax.Array | None) -> np.ndarray | None:
    if logits is None:
        return None
    return np.asarray(jax.nn.softmax(jnp.asarray(logits, jnp.float32), axis=-1), np.float64)


def fingerprint(params: Any, definition: str = "") -> str:
    """A digest of the weights and of `definition`, which names how features are taken from
    them, so a cache of other weights or other features is never reused."""
    digest = hashlib.sha256(definition.encode())
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        digest.update(jax.tree_util.keystr(path).encode())
        digest.update(np.ascontiguousarray(np.asarray(leaf, np.float32)).tobytes())
    return digest.hexdigest()[:16]


def load_classifier(path: str) -> FeatureExtractor:
    """The classifier exported by `gan-train-classifier` into directory `path`: features
    from its penultimate layer, probabilities from its softmax."""
    from gan_jax.data.images import to_float
    from gan_jax.eval import classifier

    if not os.path.exists(os.path.join(path, classifier.METADATA_FILE)):
        raise ConfigError(f"eval.extractor_path: no trained classifier in {path!r} (missing "
                          f"{classifier.METADATA_FILE}); train one with gan-train-classifier")
    model, params, metadata = classifier.load_classifier(path)

    size = tuple(metadata["input_shape"][:2])

    @jax.jit
    def apply(images: jax.Array) -> tuple[jax.Array, jax.Array]:
        if images.shape[1:3] != size:  # E.g. 32x32 translations read by a 28x28 classifier.
            images = jax.image.resize(images, (images.shape[0], *size, images.shape[-1]),
                                      "linear", antialias=True)
        logits, features = model.apply({"params": params}, to_float(images))
        return features, logits

    return FeatureExtractor(metadata["name"], metadata["input_shape"][-1],
                            fingerprint(params, "DigitCNN features: pre-activations"), apply)


def load_inception(path: str, mode: str = "") -> FeatureExtractor:
    """InceptionV3 with pytorch-fid's FID weights, from an `.npz` written by
    `scripts/convert_inception_weights.py`: 2048-d pool features, 1008-way logits, its input
    resized by `mode` (gan_jax.eval.resize; "" is legacy_pytorch, pytorch-fid's). The mode
    goes into the name (inception_v3 for legacy_pytorch, inception_v3_<mode> otherwise), so
    into metric names and reference caches."""
    from gan_jax.eval import inception, resize

    mode = mode or "legacy_pytorch"
    resize.check_mode(mode)
    if not path or not os.path.exists(path):
        raise ConfigError(f"eval.extractor_path: InceptionV3 weights {path!r} not found; see "
                          "the README (Inception weights) for how to get and convert them")
    variables = inception.load_npz(path)
    model = inception.FIDInceptionV3()

    @jax.jit
    def apply(images: jax.Array) -> tuple[jax.Array, jax.Array]:
        return model.apply(variables, inception.preprocess(images, mode))

    size = (inception.INPUT_SIZE, inception.INPUT_SIZE)
    host = (lambda images: resize.clean(images, size)) if resize.on_host(mode) else None
    described = ("FIDInceptionV3 pool3, pytorch-fid resize" if mode == "legacy_pytorch"
                 else f"FIDInceptionV3 pool3, {mode} resize")
    name = "inception_v3" if mode == "legacy_pytorch" else f"inception_v3_{mode}"
    return FeatureExtractor(name, 3, fingerprint(variables, described), apply, host)


def load_dinov2(path: str) -> FeatureExtractor:
    """DINOv2 ViT-L/14 from an `.npz` written by `scripts/convert_dinov2_weights.py`: the
    1,024-d normalised class token of images resized to 224 x 224 as dgm-eval does (PIL
    bicubic on the host, ImageNet normalisation)."""
    from gan_jax.eval import dinov2

    if not path or not os.path.exists(path):
        raise ConfigError(f"eval.extractor_path: DINOv2 weights {path!r} not found; see "
                          "docs/evaluation.md (FD-DINOv2) for how to get and convert them")
    size, params, positions = dinov2.load_npz(path)
    grid = dinov2.INPUT_SIZE // size.patch
    pos_embed = jnp.asarray(dinov2.interpolated_positions(positions, grid, grid))
    model = dinov2.DINOv2(size)

    @jax.jit
    def apply(images: jax.Array) -> tuple[jax.Array, None]:
        return model.apply({"params": params}, dinov2.preprocess(images), pos_embed), None

    described = (f"DINOv2 ViT {size} class token, PIL bicubic {dinov2.INPUT_SIZE}, ImageNet "
                 "normalisation")
    return FeatureExtractor("dinov2", 3, fingerprint({"params": params, "pos": pos_embed},
                                                     described),
                            apply, dinov2.resize_for_dinov2)


# The shipped classifier configs, by the dataset whose images they read.
CLASSIFIER_CONFIGS = {"mnist": "configs/classifier.py",
                      "stacked_mnist": "configs/classifier.py",
                      "fashion_mnist": "configs/classifier.py:fashion_mnist"}
# Datasets derived from those, whose images the same classifier measures.
CLASSIFIER_CONFIGS |= {"edges2mnist": CLASSIFIER_CONFIGS["mnist"],
                       "edges2fashion": CLASSIFIER_CONFIGS["fashion_mnist"],
                       "inpaint_fashion": CLASSIFIER_CONFIGS["fashion_mnist"]}


def check_extractor(kind: str) -> None:
    if kind not in EXTRACTOR_KINDS:
        raise ConfigError(f"eval.extractor: unknown extractor {kind!r} (known: "
                          f"{', '.join(EXTRACTOR_KINDS)})")


def missing_extractor(kind: str, path: str, dataset: str = "") -> str:
    """Why the `kind` extractor at `path` cannot be loaded (with the command that makes it),
    or "" when it is there. Loads nothing."""
    from gan_jax.eval.classifier import METADATA_FILE

    check_extractor(kind)
    if kind == "classifier":
        if path and os.path.exists(os.path.join(path, METADATA_FILE)):
            return ""
        where = path or "(eval.extractor_path unset)"
        if dataset not in CLASSIFIER_CONFIGS:
            return (f"no trained classifier in {where}; train one on this data with "
                    "gan-train-classifier (docs/evaluation.md)")
        return (f"no trained classifier in {where}; train it with: gan-train-classifier "
                f"--config {CLASSIFIER_CONFIGS[dataset]} --workdir {path or 'DIR'} (about 20 "
                "minutes on 2 CPU cores), then run gan-evaluate on this run again")
    if path and os.path.exists(path):
        return ""
    if kind == "dinov2":
        return (f"DINOv2 weights {path or '(eval.extractor_path unset)'} not found; convert "
                "them with scripts/convert_dinov2_weights.py (docs/evaluation.md)")
    return (f"InceptionV3 weights {path or '(eval.extractor_path unset)'} not found; convert "
            "them with scripts/convert_inception_weights.py (docs/evaluation.md)")


def check_resize(kind: str, mode: str) -> None:
    """`eval.resize` names a mode of an extractor that resizes ("" for its own)."""
    if not mode or (kind == "dinov2" and mode == DINOV2_RESIZE):
        return
    from gan_jax.eval import resize

    resize.check_mode(mode)
    if kind == "classifier":
        raise ConfigError(f"eval.resize: {mode!r} applies to the extractors that resize to "
                          "a fixed input (inception_v3); a classifier reads images at its own "
                          "size (set eval.resize='')")
    if kind == "dinov2":
        raise ConfigError(f"eval.resize: {mode!r} is InceptionV3's; DINOv2 resizes as "
                          f"dgm-eval does, with PIL's bicubic (set eval.resize='' or "
                          f"{DINOV2_RESIZE!r})")


@functools.lru_cache(maxsize=4)
def build_extractor(kind: str, path: str, resize: str = "") -> FeatureExtractor:
    """The extractor named by `eval.extractor`, `eval.extractor_path` and `eval.resize`
    (loaded once)."""
    check_resize(kind, resize)
    missing = missing_extractor(kind, path)
    if missing:
        raise ConfigError(f"eval.extractor_path: {missing}")
    if kind == "classifier":
        return load_classifier(path)
    return load_dinov2(path) if kind == "dinov2" else load_inception(path, resize)
