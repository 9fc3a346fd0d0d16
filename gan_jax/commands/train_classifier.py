"""Trains the CNN classifier whose features and class probabilities image metrics use.

A classifier workdir holds:

    config.json       the config it was trained from
    metrics.jsonl     loss and test accuracy per epoch (and TensorBoard events)
    checkpoints/      Orbax checkpoints of the train state, one per epoch (resumable)
    classifier.json   what loading needs: extractor name, dataset, architecture, accuracy
    params/           the final parameters (Orbax), loaded by `eval.extractors.load_classifier`

Batches are slices of per-epoch permutations drawn from (seed, epoch), and augmentation
(random shifts) draws from (seed, step), so a resumed run continues exactly.
"""

from __future__ import annotations

import functools
import json
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from ml_collections import ConfigDict
from tqdm import tqdm

from gan_jax import config as config_lib
from gan_jax import data as data_lib
from gan_jax.config.registry import ConfigError, check_kwargs
from gan_jax.data.images import batch_indices, to_float
from gan_jax.eval.classifier import DigitCNN, build_model, save_classifier
from gan_jax.models import config_fields
from gan_jax.runs.checkpoint import Checkpointer
from gan_jax.runs.console import say
from gan_jax.runs.writers import MetricWriter, write_json_atomic


def base_config() -> ConfigDict:
    """Every key the classifier trainer reads, with its default."""
    config = ConfigDict()
    config.seed = 0
    config.name = "mnist_cnn"  # The extractor's name in metric names, e.g. fd_mnist_cnn.
    config.data = ConfigDict(dict(
        name="mnist", train_split="train", test_split="test", data_dir="", manual_dir="",
        download=True))
    config.model = ConfigDict(dict(widths=(32, 64), feature_dim=128, convs_per_block=1,
                                   dropout=0.5))
    config.train = ConfigDict(dict(
        num_epochs=15, batch_size=128, lr=1e-3, weight_decay=0.0, max_shift=2,
        eval_batch_size=1000, progress_bar=True))
    return config


def validate(config: ConfigDict) -> None:
    config_lib.check_structure(config, base_config(), free_form=("model",))
    check_kwargs("model", "DigitCNN", dict(config.model), config_fields(DigitCNN),
                 positive_ints=False)
    t = config.train
    for key in ("num_epochs", "batch_size", "eval_batch_size"):
        if t[key] < 1:
            raise ConfigError(f"train.{key}: must be >= 1, got {t[key]}")
    if t.max_shift < 0 or t.lr <= 0 or t.weight_decay < 0:
        raise ConfigError("train.max_shift and train.weight_decay must be >= 0 and train.lr > 0"
                          f", got {t.max_shift}, {t.weight_decay}, {t.lr}")
    if not config.name.replace("_", "").isalnum():
        raise ConfigError(f"name: letters, digits and underscores only, got {config.name!r}")


def load_split(data_config: Any, split: str) -> dict[str, np.ndarray]:
    """A split as {"images": uint8 [n, 28, 28, 1], "labels": int32 [n]}."""
    dataset = data_lib.build_dataset(ConfigDict(dict(
        name=data_config.name, split=split, image_size=28, channels=1, crop="none",
        data_dir=data_config.data_dir, manual_dir=data_config.manual_dir,
        download=data_config.download)))
    arrays = dataset.load()
    if "labels" not in arrays:
        raise ConfigError(f"data.name: {data_config.name!r} has no labels to train on")
    return arrays


def random_shift(key: jax.Array, images: jax.Array, max_shift: int) -> jax.Array:
    """Translates each image by up to `max_shift` pixels in each direction (zero fill)."""
    if max_shift == 0:
        return images
    num, height, width = images.shape[:3]
    padded = jnp.pad(images, ((0, 0), (max_shift, max_shift), (max_shift, max_shift),
                              (0, 0)), constant_values=-1.0)
    offsets = jax.random.randint(key, (num, 2), 0, 2 * max_shift + 1)

    def crop(image, offset):
        return jax.lax.dynamic_slice(image, (offset[0], offset[1], 0),
                                     (height, width, image.shape[-1]))

    return jax.vmap(crop)(padded, offsets)


def make_train_step(model: DigitCNN, tx: optax.GradientTransformation, batch_size: int,
                    max_shift: int):
    def train_step(state, data, step):
        key = jax.random.fold_in(data["key"], step)
        indices = batch_indices(data["order_key"], step, batch_size, data["images"].shape[0])
        shift_key, dropout_key = jax.random.split(key)
        images = random_shift(shift_key, to_float(data["images"][indices]), max_shift)
        labels = data["labels"][indices]

        def loss_fn(params):
            logits, _ = model.apply({"params": params}, images, train=True,
                                    rngs={"dropout": dropout_key})
            return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

        loss, grads = jax.value_and_grad(loss_fn)(state["params"])
        updates, opt_state = tx.update(grads, state["opt_state"], state["params"])
        params = optax.apply_updates(state["params"], updates)
        return {"params": params, "opt_state": opt_state}, loss

    return train_step


@functools.partial(jax.jit, static_argnums=0)
def _predict(model: DigitCNN, params: Any, images: jax.Array) -> jax.Array:
    return jnp.argmax(model.apply({"params": params}, to_float(images))[0], axis=-1)


def accuracy(model: DigitCNN, params: Any, arrays: dict[str, np.ndarray],
             batch_size: int) -> float:
    correct = 0
    for start in range(0, len(arrays["images"]), batch_size):
        predicted = _predict(model, params, arrays["images"][start : start + batch_size])
        correct += int(np.sum(np.asarray(predicted) == arrays["labels"][start:start + batch_size]))
    return correct / len(arrays["images"])


def train_classifier(config: ConfigDict, workdir: str) -> dict[str, Any]:
    """Trains (or resumes) the classifier in `workdir`; returns its metadata."""
    validate(config)
    os.makedirs(workdir, exist_ok=True)
    config_path = os.path.join(workdir, "config.json")
    if os.path.exists(config_path):
        with open(config_path) as f:
            saved = config_lib.from_json(f.read())
        conflicts = config_lib.resume_conflicts(saved, ConfigDict(config.to_dict()))
        if conflicts:
            raise ConfigError(f"{workdir} holds a classifier with a different config: "
                              + "; ".join(conflicts))
    write_json_atomic(config_path, json.loads(config_lib.to_json(config)))

    model = build_model(config.model)
    train_arrays = load_split(config.data, config.data.train_split)
    test_arrays = load_split(config.data, config.data.test_split)
    t = config.train
    steps_per_epoch = len(train_arrays["images"]) // t.batch_size
    if steps_per_epoch == 0:
        raise ConfigError(f"train.batch_size: {t.batch_size} exceeds the "
                          f"{len(train_arrays['images'])} training images")
    total_steps = steps_per_epoch * t.num_epochs
    tx = optax.adamw(optax.cosine_decay_schedule(t.lr, total_steps),
                     weight_decay=t.weight_decay)
    root = jax.random.PRNGKey(config.seed)
    params = model.init(jax.random.fold_in(root, 0), jnp.zeros((1, 28, 28, 1)))["params"]
    state = {"params": params, "opt_state": tx.init(params)}
    data = {**jax.device_put(train_arrays), "key": jax.random.fold_in(root, 1),
            "order_key": jax.random.fold_in(root, 2)}

    checkpointer = Checkpointer(os.path.join(workdir, "checkpoints"), max_to_keep=2)
    epoch = checkpointer.latest_step() or 0
    if epoch:
        state = checkpointer.restore(state)
        say(f"gan_jax: classifier resumed after epoch {epoch}")
    step_fn = jax.jit(make_train_step(model, tx, t.batch_size, t.max_shift), donate_argnums=0)
    writer = MetricWriter(workdir, start_step=epoch)
    test_accuracy = None
    try:
        with tqdm(total=total_steps, initial=epoch * steps_per_epoch, desc="classifier",
                  unit="step", disable=None if t.progress_bar else True,
                  dynamic_ncols=True) as progress:
            while epoch < t.num_epochs:
                losses = []
                for i in range(steps_per_epoch):
                    state, loss = step_fn(state, data, epoch * steps_per_epoch + i)
                    losses.append(loss)
                    progress.update(1)
                epoch += 1
                test_accuracy = accuracy(model, state["params"], test_arrays, t.eval_batch_size)
                writer.write_scalars(epoch, {"train_loss": float(np.mean(losses)),
                                             "test_accuracy": test_accuracy})
                progress.set_postfix(test_accuracy=f"{test_accuracy:.4f}")
                checkpointer.save(epoch, state)
    finally:
        checkpointer.close()
        writer.close()
    if test_accuracy is None:
        test_accuracy = accuracy(model, state["params"], test_arrays, t.eval_batch_size)
    return export_classifier(workdir, config, state["params"], test_accuracy)


def export_classifier(workdir: str, config: ConfigDict, params: Any,
                      test_accuracy: float) -> dict[str, Any]:
    """Writes the parameters and the metadata that `models.classifier.load_classifier` reads."""
    metadata = {
        "name": config.name,
        "dataset": config.data.name,
        "train_split": config.data.train_split,
        "test_split": config.data.test_split,
        "test_accuracy": test_accuracy,
        "model": {k: list(v) if isinstance(v, tuple) else v
                  for k, v in config.model.to_dict().items()},
        "input_shape": [28, 28, 1],
    }
    save_classifier(workdir, params, metadata)
    return metadata
