"""Image datasets: any TFDS image dataset, or a folder of images through `tfds.ImageFolder`.

A split is read once, preprocessed on the host (channels, centre crop, resize) and kept as
uint8, with its class labels when the dataset has them (TFDS's `label` feature; a folder's
class subfolders); `device_data` then places it whole in accelerator memory (MNIST 47 MB, CIFAR-10
150 MB, CelebA at 64x64 2.5 GB). The train step gathers batches there, so no data moves
between host and device per step.

Order: real batch number b is slice b % (n // batch) of the permutation of epoch
b // (n // batch), drawn from the shuffle key and the epoch number (the incomplete last batch
of each epoch is dropped). The batches a run sees are therefore a function of the seed and the
step alone, and a resumed run sees exactly those of the uninterrupted one. Each process
reads only its own shard of the split (`tfds.split_for_jax_process`; for a folder, every
process_count-th image).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import os
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.config.registry import ConfigError
from gan_jax.data.tensorflow_runtime import import_tensorflow, import_tfds

# How an image meets the target's aspect ratio before it is resized: "none" stretches it,
# "center" crops the largest centred box of the target's aspect ratio, "pad" pads it with
# black to that ratio, centred (the whole image kept).
CROP_MODES = ("none", "center", "pad")
_READ_BATCH = 1024
# Set to 1 to never download: a dataset must then be prepared or in its manual dir.
OFFLINE_ENV = "GAN_JAX_OFFLINE"
PROBE_TIMEOUT_S = 4.0
_CHECK_AVAILABLE = contextvars.ContextVar("check_available", default=True)


@contextlib.contextmanager
def shapes_only() -> Iterator[None]:
    """Builds datasets for their shapes and classes alone (benchmarks on random data): an
    unprepared TFDS dataset that cannot be downloaded is not an error, since nothing is read."""
    token = _CHECK_AVAILABLE.set(False)
    try:
        yield
    finally:
        _CHECK_AVAILABLE.reset(token)


@functools.lru_cache(maxsize=16)
def can_reach(url: str, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to `url`'s host opens within `timeout` seconds: a quick test
    for a machine without internet, where a download would hang for minutes instead."""
    import socket
    import urllib.parse

    parsed = urllib.parse.urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def check_available(builder: Any, manual_dir: str, download: bool) -> None:
    """Raises ConfigError within seconds when an unprepared TFDS dataset can neither be read
    from its manual dir nor downloaded, naming the files to put where."""
    urls = sorted(builder.url_infos or {})
    files = [url.rstrip("/").rsplit("/", 1)[-1] for url in urls]
    manual = manual_dir or os.path.join(str(builder.data_dir_root), "downloads", "manual")
    if files and all(os.path.exists(os.path.join(manual, f)) for f in files):
        return  # TFDS prepares it from the manual dir, offline.
    offline = os.environ.get(OFFLINE_ENV, "") not in ("", "0")
    if download and not offline and (not urls or can_reach(urls[0])):
        return
    why = ("data.download is False" if not download else f"{OFFLINE_ENV} is set" if offline
           else f"{urls[0].split('/')[2]} cannot be reached")
    wanted = f"its files {', '.join(files)}" if files else "its files"
    raise ConfigError(
        f"data.name: {builder.name} is not prepared in {builder.data_dir_root} and cannot be "
        f"downloaded ({why}); put {wanted} into {manual} (or set data.manual_dir to the folder "
        "that holds them)")


@dataclasses.dataclass(frozen=True, eq=False)
class ImageDataset:
    """An image split held in memory as uint8 [n, H, W, C]; samples are floats in [-1, 1]."""

    description: str
    example_shape: tuple[int, int, int]
    read: Callable[[], tuple[np.ndarray, np.ndarray | None]]  # -> (images, labels or None)
    random_flip: bool = False
    num_classes: int | None = None  # None: the data has no class labels.
    class_names: tuple[str, ...] = ()
    num_examples: int = 0  # The split's size when known before reading it (0: unknown).
    # For streaming from files: () -> (paths, labels or None, decode: file bytes -> uint8 image
    # as TensorFlow ops), this process's shard in the order `read` returns; None: stream from
    # the split read into host memory.
    files: Callable[[], tuple[np.ndarray, np.ndarray | None, Callable[[Any], Any]]] | None = None

    kind = "images"

    @property
    def stored_shape(self) -> tuple[int, int, int]:
        """The shape of one image as read and kept in memory."""
        return self.example_shape

    def load(self) -> dict[str, np.ndarray]:
        """Reads the split: {"images": uint8 [n, H, W, C], and "labels" when it has them}."""
        images, labels = self.read()
        if images.shape[1:] != self.stored_shape:
            raise ConfigError(f"{self.description}: read images of shape {images.shape[1:]}, "
                              f"expected {self.stored_shape}")
        arrays = {"images": images}
        if labels is not None:
            stored = self.stored_classes
            if stored and labels.size and not 0 <= labels.min() <= labels.max() < stored:
                raise ConfigError(f"{self.description}: labels range over "
                                  f"[{labels.min()}, {labels.max()}], outside the dataset's "
                                  f"{stored} classes")
            arrays["labels"] = labels.astype(np.int32)
        return arrays

    @property
    def stored_classes(self) -> int:
        """How many classes the labels as read range over."""
        return self.num_classes or 0

    def device_data(self, shuffle_key: jax.Array, batch_size: int) -> dict[str, jax.Array]:
        """The split on the default device, with the key that shuffles it every epoch."""
        return place_split(self.load(), shuffle_key, batch_size, self.description, "images")

    def sample(self, data: dict[str, jax.Array], key: jax.Array, batch_index: jax.Array,
               num: int) -> dict[str, jax.Array]:
        """Real batch number `batch_index`: {"x": float32 images in [-1, 1], "label": int32
        labels, when the data has them}; traceable."""
        images = data["images"]
        indices = batch_indices(data["shuffle_key"], batch_index, num, images.shape[0])
        batch = {"x": self._augment(key, to_float(images[indices]))}
        if "labels" in data:
            batch["label"] = data["labels"][indices]
        return batch

    def _augment(self, key: jax.Array, batch: jax.Array) -> jax.Array:
        if self.random_flip:
            flip = jax.random.bernoulli(key, 0.5, (batch.shape[0], 1, 1, 1))
            batch = jnp.where(flip, batch[:, :, ::-1, :], batch)
        return batch

    def reference_images(self, arrays: dict[str, np.ndarray], key: jax.Array,
                         num: int) -> np.ndarray:
        """Up to `num` real uint8 images for evaluation: the first `num` of the split, or all
        of a smaller one (`key` is unused here; datasets that compose images draw with it)."""
        del key
        return arrays["images"][:num]

    def reference_labels(self, arrays: dict[str, np.ndarray], key: jax.Array,
                         num: int) -> np.ndarray | None:
        """The labels of `reference_images(arrays, key, num)`, or None without labels."""
        del key
        return arrays["labels"][:num] if "labels" in arrays else None


@dataclasses.dataclass(frozen=True, eq=False)
class StackedDigits(ImageDataset):
    """Stacked MNIST: each sample puts three independently drawn digits in its R, G and B
    channels, so there are 1,000 modes (digit triples). The split is kept once, as single
    digits; channel c of batch b is slice b of a permutation drawn from (shuffle key, c,
    epoch), so every epoch pairs the digits anew. The label of a stacked image is its mode,
    100 * red digit + 10 * green digit + blue digit."""

    @property
    def stored_shape(self) -> tuple[int, int, int]:
        return (*self.example_shape[:2], 1)

    @property
    def stored_classes(self) -> int:
        return 10

    def sample(self, data: dict[str, jax.Array], key: jax.Array, batch_index: jax.Array,
               num: int) -> dict[str, jax.Array]:
        images = data["images"]
        indices = [batch_indices(jax.random.fold_in(data["shuffle_key"], c), batch_index, num,
                                 images.shape[0])
                   for c in range(self.example_shape[-1])]
        channels = [images[i] for i in indices]
        batch = {"x": self._augment(key, to_float(jnp.concatenate(channels, axis=-1)))}
        if "labels" in data:
            batch["label"] = sum(data["labels"][i] * 10 ** (len(indices) - 1 - c)
                                 for c, i in enumerate(indices))
        return batch

    def reference_images(self, arrays: dict[str, np.ndarray], key: jax.Array,
                         num: int) -> np.ndarray:
        return self.stack(arrays, key, num)[0]

    def reference_labels(self, arrays: dict[str, np.ndarray], key: jax.Array,
                         num: int) -> np.ndarray | None:
        digits = self.stack(arrays, key, num)[1]
        return None if digits is None else digits @ np.array([100, 10, 1], np.int32)

    def stack(self, arrays: dict[str, np.ndarray], key: jax.Array,
              num: int) -> tuple[np.ndarray, np.ndarray | None]:
        """`num` stacked uint8 images drawn with replacement by `key`, and their digit
        triples [num, 3] when the split has labels."""
        size = arrays["images"].shape[0]
        picks = np.asarray(jax.random.randint(key, (num, self.example_shape[-1]), 0, size))
        images = np.concatenate([arrays["images"][picks[:, c]]
                                 for c in range(picks.shape[1])], axis=-1)
        labels = arrays["labels"][picks] if "labels" in arrays else None
        return images, labels


def place_split(arrays: dict[str, np.ndarray], shuffle_key: jax.Array, batch_size: int,
                description: str, what: str) -> dict[str, jax.Array]:
    """A split's arrays (equal first dimensions) on the default device with its shuffle key,
    cut to the smallest process's shard under several processes (pmap needs equal shards);
    ConfigError when a shard holds fewer than `batch_size` examples (`what`: their name)."""
    num = next(iter(arrays.values())).shape[0]
    if jax.process_count() > 1:  # Shards may differ by an example.
        from jax.experimental import multihost_utils

        num = int(np.min(multihost_utils.process_allgather(np.int64(num))))
        arrays = {name: array[:num] for name, array in arrays.items()}
    if num < batch_size:
        raise ConfigError(f"{description}: {num} {what} in this process's shard, fewer than "
                          f"train.batch_size={batch_size}")
    return {**jax.device_put(arrays), "shuffle_key": shuffle_key}


def batch_indices(shuffle_key: jax.Array, batch_index: jax.Array, num: int,
                  size: int) -> jax.Array:
    """Indices of batch `batch_index`: slice b % (size // num) of the permutation of epoch
    b // (size // num), drawn from the shuffle key and the epoch."""
    per_epoch = size // num
    epoch, position = batch_index // per_epoch, batch_index % per_epoch
    return jax.lax.dynamic_slice_in_dim(epoch_order(shuffle_key, epoch, size), position * num,
                                        num)


def epoch_order(shuffle_key: jax.Array, epoch: Any, size: int) -> jax.Array:
    """The order of a split's examples in `epoch` (traceable; the host streaming path calls
    it too, so both read the same batches)."""
    return jax.random.permutation(jax.random.fold_in(shuffle_key, epoch), size)


def to_float(images: jax.Array) -> jax.Array:
    """uint8 -> float32 in [-1, 1]."""
    return images.astype(jnp.float32) / 127.5 - 1.0


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Floats in [-1, 1] -> uint8 in [0, 255] (values outside are clipped), on the host."""
    return np.clip(np.round((np.asarray(images, np.float32) + 1.0) * 127.5), 0, 255).astype(
        np.uint8)


def image_hw(image_size: int, image_width: int = 0) -> tuple[int, int]:
    """(height, width) of `data.image_size` (the side, or the height when `data.image_width`
    is set; 0 keeps the native size) and `data.image_width` (0: the same as the height)."""
    if image_size < 0:
        raise ConfigError(f"data.image_size: must be >= 0 (0 keeps the native size), got "
                          f"{image_size}")
    if image_width < 0:
        raise ConfigError(f"data.image_width: must be >= 0 (0: square, data.image_size wide), "
                          f"got {image_width}")
    if image_width and not image_size:
        raise ConfigError(f"data.image_width: {image_width} needs a height too; set "
                          "data.image_size (0 keeps the native size)")
    return image_size, image_width or image_size


def _check_preprocessing(image_size: int, channels: int, crop: str,
                         image_width: int = 0) -> None:
    image_hw(image_size, image_width)
    if channels not in (0, 1, 3):
        raise ConfigError(f"data.channels: must be 0 (native), 1 or 3, got {channels}")
    if crop not in CROP_MODES:
        raise ConfigError(f"data.crop: {crop!r} is not one of {CROP_MODES}")


def _preprocess(image: Any, image_size: int, channels: int, crop: str,
                image_width: int = 0) -> Any:
    """uint8 HWC tensor -> uint8 [height, width, channels] (`image_hw`; tf ops, host side),
    meeting that aspect ratio by `crop` (see CROP_MODES) first."""
    tf = import_tensorflow()

    if channels == 1 and image.shape[-1] == 3:
        image = tf.image.rgb_to_grayscale(image)
    elif channels == 3 and image.shape[-1] == 1:
        image = tf.image.grayscale_to_rgb(image)
    height, width = image_hw(image_size, image_width)
    if crop in ("center", "pad"):
        if not height:  # The native size: a square.
            height = width = 1
        shape = tf.shape(image)
        h, w = shape[0], shape[1]
        wider = w * height > h * width  # Wider than the target's aspect ratio.
        if crop == "center":  # The largest centred box of the target's aspect ratio.
            box_h = tf.where(wider, h, w * height // width)
            box_w = tf.where(wider, h * width // height, w)
            image = tf.image.crop_to_bounding_box(image, (h - box_h) // 2, (w - box_w) // 2,
                                                  box_h, box_w)
        else:  # Black bars to the target's aspect ratio, centred.
            box_h = tf.where(wider, -(-w * height // width), h)
            box_w = tf.where(wider, w, -(-h * width // height))
            image = tf.image.pad_to_bounding_box(image, (box_h - h) // 2, (box_w - w) // 2,
                                                 box_h, box_w)
        height, width = image_hw(image_size, image_width)
    if height:
        image = tf.image.resize(image, (height, width), antialias=True)
        image = tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)
    return image


def _padded(image: Any, pad: int) -> Any:
    """`pad` zero (black) pixels on every side of an HWC tensor."""
    tf = import_tensorflow()

    return tf.pad(image, [[pad, pad], [pad, pad], [0, 0]]) if pad else image


def _prepare(builder: Any, manual_dir: str) -> None:
    """Downloads (or reads from the manual dir) and prepares a TFDS dataset, under a file lock:
    runs of a sweep that start together prepare it once, not into each other's files."""
    import filelock
    tfds = import_tfds()

    root = str(builder.data_dir_root)
    os.makedirs(root, exist_ok=True)
    with filelock.FileLock(os.path.join(root, f".{builder.name}.prepare.lock")):
        if builder.is_prepared():  # Another process prepared it while this one waited.
            return
        tfds.disable_progress_bar()  # Its bars would interleave with the run's output.
        config = tfds.download.DownloadConfig(manual_dir=manual_dir or None)
        # TFDS caches files extracted from a manual dir by file name alone, so MNIST's and
        # Fashion-MNIST's identically named files would be mixed up in a shared download
        # dir: give each dataset its own.
        download_dir = os.path.join(root, "downloads", builder.name)
        builder.download_and_prepare(download_dir=download_dir, download_config=config)


def _read_all(dataset: Any) -> tuple[np.ndarray, np.ndarray | None]:
    tfds = import_tfds()

    images, labels = [], []
    for batch in tfds.as_numpy(dataset.batch(_READ_BATCH)):
        images.append(batch["image"])
        if "label" in batch:
            labels.append(batch["label"])
    if not images:
        return np.zeros((0, 0, 0, 0), np.uint8), None
    return np.concatenate(images), (np.concatenate(labels) if labels else None)


def tfds_images(
    name: str,
    split: str = "train",
    image_size: int = 0,
    channels: int = 0,
    crop: str = "none",
    random_flip: bool = False,
    data_dir: str = "",
    manual_dir: str = "",
    download: bool = True,
    pad: int = 0,
    image_width: int = 0,
) -> ImageDataset:
    """A TFDS image dataset by name. `split` may slice a split (TFDS's "train[:10%]").
    `pad` adds that many black pixels on every side, after any resize (28x28 MNIST with
    pad=2 is 32x32, for models that need a power of two).
    `data_dir` / `manual_dir` are TFDS's data and manual dirs ("" for TFDS's defaults); with
    `download=False` the data must already be prepared."""
    tfds = import_tfds()

    _check_preprocessing(image_size, channels, crop, image_width)
    if pad < 0:
        raise ConfigError(f"data.pad: must be >= 0 (pixels added on every side), got {pad}")
    builder = tfds.builder(name, data_dir=data_dir or None)
    features = builder.info.features
    if "image" not in features or not isinstance(features["image"], tfds.features.Image):
        raise ConfigError(f"data.name: TFDS dataset {name!r} has no 'image' feature")
    native = features["image"].shape
    known_splits = list(builder.info.splits)
    # TFDS's slicing syntax ("train[:10%]", "train[:6000]") takes part of a split.
    base_split = split.split("[", 1)[0]
    if known_splits and base_split not in known_splits:
        raise ConfigError(f"data.split: {name!r} has no split {split!r} "
                          f"(available: {', '.join(sorted(known_splits))})")
    height, width = image_hw(image_size, image_width)
    if not height and (native[0] is None or native[1] is None):
        raise ConfigError(f"data.image_size: {name!r} images are {native}; set a size")
    if _CHECK_AVAILABLE.get() and not builder.is_prepared():  # Fail now, not after minutes.
        check_available(builder, manual_dir, download)
    label = features["label"] if "label" in features else None
    classes = (tuple(label.names) if isinstance(label, tfds.features.ClassLabel)
               and label.num_classes else ())
    shape = ((height or native[0]) + 2 * pad, (width or native[1]) + 2 * pad)
    out_channels = channels or native[-1]
    description = f"TFDS {name}:{split}"
    try:
        num_examples = int(builder.info.splits[split].num_examples)
    except (KeyError, ValueError, TypeError):  # Not prepared yet, or no split info.
        num_examples = 0

    def read() -> tuple[np.ndarray, np.ndarray | None]:
        tf = import_tensorflow()

        prepared = builder
        if not builder.is_prepared():
            _prepare(builder, manual_dir)
            # A fresh builder reads the prepared dataset's info (its splits), whichever
            # process prepared it.
            prepared = tfds.builder(name, data_dir=data_dir or None)
        if base_split not in prepared.info.splits:
            raise ConfigError(f"data.split: {name!r} has no split {split!r} "
                              f"(available: {', '.join(sorted(prepared.info.splits))})")
        dataset = prepared.as_dataset(split=tfds.split_for_jax_process(split),
                                     shuffle_files=False)
        dataset = dataset.map(
            lambda ex: {**{k: v for k, v in ex.items() if k == "label"},
                        "image": _padded(_preprocess(ex["image"], image_size, channels,
                                                     crop, image_width), pad)},
            num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return _read_all(dataset)

    return ImageDataset(description, (*shape, out_channels), read, random_flip,
                        len(classes) or None, classes, num_examples)


def folder_classes(path: str, split: str) -> tuple[str, ...]:
    """The class names of an image folder as `tfds.ImageFolder` labels them: the sorted
    subfolder names of all its splits. Raises ConfigError when `split` has none."""
    def subfolders(directory: str) -> list[str]:
        return [d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d))]

    split_dir = os.path.join(path, split)
    if not subfolders(split_dir):
        files = [f for f in os.listdir(split_dir) if os.path.isfile(os.path.join(split_dir, f))]
        held = f" (it holds {len(files)} files directly)" if files else ""
        raise ConfigError(f"data.path: {split_dir} has no class subfolders{held}; images go "
                          f"in {split_dir}/<class>/<image> (one folder is fine)")
    return tuple(sorted({c for s in subfolders(path) for c in subfolders(os.path.join(path, s))}))


def image_folder(
    path: str,
    split: str = "train",
    image_size: int = 64,
    channels: int = 3,
    crop: str = "center",
    random_flip: bool = False,
    image_width: int = 0,
) -> ImageDataset:
    """Images under `path/<split>/<class>/` (any class names; one folder is fine), read with
    `tfds.ImageFolder`, so no dataset builder needs writing. Formats: png, jpg, jpeg, bmp, gif.
    `image_size` is the side, or the height with `image_width` the width; `crop` says how
    each image meets that aspect ratio (CROP_MODES)."""
    _check_preprocessing(image_size, channels, crop, image_width)
    height, width = image_hw(image_size, image_width)
    if not height:
        raise ConfigError("data.image_size: an image folder needs a size (images may differ)")
    if channels == 0:
        raise ConfigError("data.channels: an image folder needs 1 or 3 channels")
    if not path:
        raise ConfigError("data.path: set it to the folder that holds <split>/<class>/<image>")
    if not os.path.isdir(path):
        raise ConfigError(f"data.path: no such folder {path!r}")
    split_dir = os.path.join(path, split)
    if not os.path.isdir(split_dir):
        found = sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)))
        raise ConfigError(f"data.split: no folder {split!r} in {path!r} (found: "
                          f"{', '.join(found) or 'none'}); images go in {path}/<split>/<class>/")
    classes = folder_classes(path, split)
    description = f"image folder {split_dir}"

    def decode(contents: Any) -> Any:
        tf = import_tensorflow()

        image = tf.io.decode_image(contents, channels=channels, expand_animations=False)
        return _preprocess(image, image_size, channels, crop, image_width)

    def builder() -> Any:
        tfds = import_tfds()

        folder = tfds.ImageFolder(path)
        if split not in folder.info.splits or folder.info.splits[split].num_examples == 0:
            raise ConfigError(f"{description}: no images (png, jpg, jpeg, bmp or gif) in its "
                              "class folders; expected <split>/<class>/<image>")
        return folder

    def read() -> tuple[np.ndarray, np.ndarray | None]:
        tf = import_tensorflow()
        tfds = import_tfds()

        # ImageFolder has no sub-splits: each process takes every process_count-th image.
        dataset = builder().as_dataset(split=split, shuffle_files=False,
                                       decoders={"image": tfds.decode.SkipDecoding()})
        dataset = dataset.shard(jax.process_count(), jax.process_index())
        try:
            return _read_all(dataset.map(
                lambda ex: {"image": decode(ex["image"]), "label": ex["label"]},
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True))
        except tf.errors.InvalidArgumentError:
            raise ConfigError(f"{description}: cannot decode image "
                              f"{_first_unreadable(dataset)}") from None

    def files() -> tuple[np.ndarray, np.ndarray, Callable[[Any], Any]]:
        folder = builder()
        # TFDS ImageFolder's own deterministic order, which `read` returns too.
        examples = folder._split_examples[split][jax.process_index()::jax.process_count()]
        label = folder.info.features["label"]
        paths = np.array([e.image_path for e in examples])
        labels = np.array([label.str2int(e.label) for e in examples], np.int32)
        return paths, labels, decode

    num_examples = sum(len(files) for _, _, files in os.walk(split_dir))
    return ImageDataset(description, (height, width, channels), read, random_flip,
                        len(classes), classes, num_examples, files)


def _first_unreadable(dataset: Any) -> str:
    """The file name of the first example that TensorFlow cannot decode."""
    tf = import_tensorflow()

    for ex in dataset:
        try:
            tf.io.decode_image(ex["image"], expand_animations=False)
        except tf.errors.InvalidArgumentError:
            return ex["image/filename"].numpy().decode()
    return "(unknown file)"


def stacked_mnist(
    split: str = "train",
    data_dir: str = "",
    manual_dir: str = "",
    download: bool = True,
) -> StackedDigits:
    """Stacked MNIST (28x28x3, 1,000 modes) built from the TFDS MNIST split `split`."""
    digits = tfds_images("mnist", split, 28, 1, "none", False, data_dir, manual_dir, download)
    return StackedDigits(f"Stacked MNIST from {digits.description}", (28, 28, 3), digits.read,
                         num_classes=1000)
