"""Streaming input: real image batches read on the host for every compiled call, for splits
too large to hold on the device.

The batches are the ones the in-memory path gathers on the device: batch b holds the
examples at slice b % (n // batch) of the permutation of epoch b // (n // batch)
(`images.epoch_order`), so a run reads the same images whichever path it takes, and a
resumed run reads those of the uninterrupted one. A tf.data pipeline computes each batch's
indices, reads and decodes its files (or gathers from the split in host memory) in parallel,
and prefetches; the training loop puts the next call's batches on the devices while the
current call runs. Random flips stay on the device, drawn from the step's key as before.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np

from gan_jax.config.registry import ConfigError
from gan_jax.data.images import ImageDataset, epoch_order, to_float
from gan_jax.data.tensorflow_runtime import import_tensorflow

FIRST_BATCH = "first_batch"


@dataclasses.dataclass(frozen=True, eq=False)
class StreamedImages:
    """An image dataset whose step reads the batches fed with each call (`BatchFeeder`)
    instead of a split held on the device; everything else is the wrapped dataset's."""

    dataset: ImageDataset

    kind = "images"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.dataset, name)

    def device_data(self, shuffle_key: jax.Array, batch_size: int) -> Any:
        raise TypeError("a streamed dataset has no device data: its batches come from a "
                        "BatchFeeder with every call")

    def sample(self, data: dict[str, jax.Array], key: jax.Array, batch_index: jax.Array,
               num: int) -> dict[str, jax.Array]:
        """Real batch number `batch_index`, from the call's batches [n, num, ...]."""
        position = batch_index - data[FIRST_BATCH]
        batch = {"x": self.dataset._augment(key, to_float(data["images"][position]))}
        if "labels" in data:
            batch["label"] = data["labels"][position]
        return batch


def _smallest_shard(num: int) -> int:
    """The smallest process's shard size (every process reads batches of the same size)."""
    if jax.process_count() == 1:
        return num
    from jax.experimental import multihost_utils

    return int(np.min(multihost_utils.process_allgather(np.int64(num))))


class BatchFeeder:
    """The host pipeline: `take(n)` returns the next n real batches, {"images": uint8
    [n, batch, H, W, C], "labels": int32 [n, batch] when labelled, "first_batch": the number
    of the first}, starting from batch `first_batch`."""

    def __init__(self, dataset: ImageDataset, shuffle_key: jax.Array, batch_size: int,
                 first_batch: int, prefetch: int = 4):
        tf = import_tensorflow()

        if dataset.files is not None:
            paths, labels, decode = dataset.files()
        else:  # Stream from the split read into host memory.
            arrays = dataset.load()
            paths, labels, decode = None, arrays.get("labels"), None
        size = _smallest_shard(len(paths) if paths is not None else len(arrays["images"]))
        if size < batch_size:
            raise ConfigError(f"{dataset.description}: {size} images in this process's shard, "
                              f"fewer than train.batch_size={batch_size}")
        self._next = first_batch
        per_epoch = size // batch_size

        def index_batches():
            cached_epoch, order = None, None
            batch = first_batch
            while True:
                epoch, position = divmod(batch, per_epoch)
                if epoch != cached_epoch:
                    order = np.asarray(epoch_order(shuffle_key, epoch, size), np.int32)
                    cached_epoch = epoch
                yield order[position * batch_size : (position + 1) * batch_size]
                batch += 1

        indices = tf.data.Dataset.from_generator(
            index_batches, output_signature=tf.TensorSpec([batch_size], tf.int32))
        if paths is not None:
            path_table = tf.constant(paths)
            label_table = tf.constant(labels if labels is not None else
                                      np.zeros(len(paths), np.int32))

            def load(i):
                image = decode(tf.io.read_file(tf.gather(path_table, i)))
                return {"images": tf.ensure_shape(image, dataset.example_shape),
                        "labels": tf.gather(label_table, i)}

            examples = indices.unbatch().map(load, num_parallel_calls=tf.data.AUTOTUNE,
                                             deterministic=True)
            batches = examples.batch(batch_size, drop_remainder=True)
        else:
            images = arrays["images"]

            def gather(i):
                return images[i], (labels[i] if labels is not None
                                   else np.zeros(len(i), np.int32))

            def load_batch(i):
                x, y = tf.numpy_function(gather, [i], (tf.uint8, tf.int32))
                return {"images": tf.ensure_shape(x, (batch_size, *dataset.example_shape)),
                        "labels": tf.ensure_shape(y, (batch_size,))}

            batches = indices.map(load_batch, num_parallel_calls=tf.data.AUTOTUNE,
                                  deterministic=True)
        self._labelled = labels is not None
        self._iterator = batches.prefetch(prefetch).as_numpy_iterator()

    def take(self, num_batches: int) -> dict[str, np.ndarray]:
        batches = [next(self._iterator) for _ in range(num_batches)]
        out = {"images": np.stack([b["images"] for b in batches]),
               FIRST_BATCH: np.int32(self._next)}
        if self._labelled:
            out["labels"] = np.stack([b["labels"] for b in batches])
        self._next += num_batches
        return out


def split_bytes(dataset: Any) -> int:
    """The split's size in memory as uint8, when known before reading it (0: unknown)."""
    return int(getattr(dataset, "num_examples", 0) * np.prod(dataset.example_shape))


def choose_input(mode: str, limit_mb: float, dataset: Any, num_seeds: int) -> bool:
    """Whether a run streams its real batches (`train.input`): ConfigError when it cannot."""
    streamable = type(dataset) is ImageDataset  # Not points, pairs or stacked digits.
    if mode == "stream":
        if not streamable:
            raise ConfigError(f"train.input: 'stream' reads plain image datasets; "
                              f"{getattr(dataset, 'description', dataset.kind)} is held on "
                              "the device (use 'device' or 'auto')")
        if num_seeds > 1:
            raise ConfigError("train.input: 'stream' feeds one seed's batches; vectorised "
                              f"seeds (train.num_seeds={num_seeds}) each shuffle differently "
                              "(use 'device')")
        return True
    if mode == "auto":
        return streamable and num_seeds == 1 and split_bytes(dataset) > limit_mb * 2**20
    return False
