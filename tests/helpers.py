"""Test helpers shared by the loop and CLI tests."""

from __future__ import annotations

import os

import jax
import numpy as np

from gan_jax.checkpoint import Checkpointer
from gan_jax.evaluate import load_run_config
from gan_jax.experiment import build_experiment


def load_state(workdir: str, step: int | None = None):
    """The train state saved in `workdir` (latest step by default)."""
    experiment = build_experiment(load_run_config(workdir))
    checkpointer = Checkpointer(os.path.join(workdir, "checkpoints"), 100)
    try:
        return checkpointer.restore(experiment.init_state(), step)
    finally:
        checkpointer.close()


def assert_states_identical(a, b) -> None:
    """Bit-identical pytrees: same structure and every array equal, no tolerance."""
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def write_image_folder(root, num: int = 24, size: int = 12) -> str:
    """root/train/all/<i>.png: `num` random RGB images; returns root."""
    from PIL import Image

    folder = os.path.join(str(root), "train", "all")
    os.makedirs(folder, exist_ok=True)
    pixels = (np.arange(num * size * size * 3).reshape(num, size, size, 3) * 37) % 251
    for i, image in enumerate(pixels.astype(np.uint8)):
        Image.fromarray(image).save(os.path.join(folder, f"{i}.png"))
    return str(root)


def tiny_image_config(folder: str, num_steps: int = 30, seed: int | None = 0):
    """The DCGAN config on a folder of images at 8x8 with a tiny network."""
    from ml_collections import ConfigDict

    from configs import dcgan_mnist

    config = dcgan_mnist.get_config()
    config.seed = seed
    config.data = ConfigDict(dict(name="image_folder", path=folder, split="train",
                                  image_size=8, channels=3, crop="center", random_flip=True))
    config.model.latent_dim = 8
    config.model.generator.width = 4
    config.model.discriminator.width = 4
    config.train.batch_size = 8
    config.train.num_steps = num_steps
    config.train.steps_per_call = 5
    config.train.log_every = 10
    config.train.sample_every = 10
    config.train.checkpoint_every = 10
    config.train.progress_bar = False
    return config

