"""Test helpers: the small configs every test trains, and shared checks."""

from __future__ import annotations

import os
import re

import jax
import numpy as np

from gan_jax.runs.rundir import load_state

__all__ = ["load_state", "tiny_config", "tiny_conditional_config", "tiny_image_config",
           "assert_states_identical"]


def tiny_config(data: str = "ring", num_steps: int = 200, seed: int | None = 0):
    """A real run's config with a small MLP, so compiling and training take seconds."""
    from configs import mog

    config = mog.get_config(data)
    config.seed = seed
    config.model.generator.hidden_dim = 32
    config.model.generator.depth = 2
    config.model.discriminator.hidden_dim = 32
    config.model.discriminator.depth = 2
    config.model.packing = 1
    for player in (config.optim.g, config.optim.d):
        player.schedule = "constant"
    config.train.batch_size = 64
    config.train.num_steps = num_steps
    config.train.steps_per_call = 25
    config.train.log_every = 50
    config.train.sample_every = 100
    config.train.checkpoint_every = 100
    config.train.progress_bar = False
    config.eval.num_samples = 500
    return config


def tiny_conditional_config(num_steps: int = 100, seed: int | None = 0,
                            generator: str = "concat", discriminator: str = "projection"):
    """`tiny_config` on the ring, conditioned on each point's mode."""
    config = tiny_config("ring", num_steps, seed)
    config.model.condition = "class"
    config.model.generator.conditioning = generator
    config.model.discriminator.conditioning = discriminator
    config.eval.num_samples = 400
    return config


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
    config.eval.metrics = ""  # Whatever classifiers this checkout has trained.
    return config



def tiny_stylegan_config(folder: str, num_steps: int = 30, style: str = "modulation"):
    """configs/stylegan_mnist.py's setting on a folder of images at 8x8, with tiny players,
    mixing on half the examples, lazy R1 every 4 D updates and lazy path-length
    regularisation every 2 G updates."""
    from configs import stylegan_mnist

    config = tiny_image_config(folder, num_steps)
    base = stylegan_mnist.stylegan_config("mnist", style)
    config.model, config.loss, config.optim = base.model, base.loss, base.optim
    config.model.latent_dim = 8
    config.model.generator.update(dict(w_dim=8, mapping_depth=2, width=4, max_width=8,
                                       mixing_prob=0.5))
    config.model.discriminator.update(dict(width=4, max_width=8))
    config.loss.r1_interval = 4
    # Path-length regularisation on every other G update, over half the batch.
    config.loss.update(dict(pl_weight=2.0, pl_interval=2, pl_batch_shrink=2))
    # One step per call: the program the pmap-against-jit test compiles too (cached once).
    config.train.steps_per_call = 1
    config.train.log_every = 3
    config.train.checkpoint_every = 6
    config.train.sample_every = 0  # Grids are tested elsewhere; here they would only compile.
    return config


def synthetic_digits(num: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """uint8 [num, 28, 28, 1] images of 10 classes, class k a bright 6x6 block at its own
    place on a noisy background, and their int32 labels: learnable in one epoch."""
    label_key, noise_key = jax.random.split(jax.random.PRNGKey(seed))
    labels = np.asarray(jax.random.randint(label_key, (num,), 0, 10), np.int32)
    images = np.array(jax.random.uniform(noise_key, (num, 28, 28, 1), maxval=60.0))
    for i, k in enumerate(labels):
        top, left = 3 + (k // 5) * 13, 1 + (k % 5) * 5
        images[i, top : top + 6, left : left + 6] = 230.0
    return images.astype(np.uint8), labels


def write_digit_folder(root, splits: dict[str, int], seed: int = 0) -> str:
    """root/<split>/<label>/<i>.png grayscale synthetic digits; returns root."""
    from PIL import Image

    for offset, (split, num) in enumerate(splits.items()):
        images, labels = synthetic_digits(num, seed + offset)
        for i, (image, label) in enumerate(zip(images, labels, strict=True)):
            folder = os.path.join(str(root), split, str(label))
            os.makedirs(folder, exist_ok=True)
            Image.fromarray(image[..., 0]).save(os.path.join(folder, f"{i}.png"))
    return str(root)


def train_tiny_classifier(workdir: str, monkeypatch, num_epochs: int = 2) -> dict:
    """A small DigitCNN trained on synthetic digits (the data loader is patched)."""
    from gan_jax.commands import train_classifier
    from gan_jax.commands.train_classifier import base_config

    splits = {"train": synthetic_digits(2048, 0), "test": synthetic_digits(256, 1)}
    monkeypatch.setattr(train_classifier, "load_split", lambda data, split: dict(
        zip(("images", "labels"), splits[split], strict=True)))
    config = base_config()
    config.name = "tiny_cnn"
    config.model.widths = (4, 8)
    config.model.feature_dim = 16
    config.model.dropout = 0.1
    config.train.num_epochs = num_epochs
    config.train.batch_size = 32
    config.train.lr = 3e-3
    config.train.max_shift = 1
    config.train.progress_bar = False
    return train_classifier.train_classifier(config, workdir)


def state_fingerprint(state) -> dict:
    """A train state's exact SHA-256 over its parameters, model state and EMA (in tree
    order, float32 bytes), and per-part float64 sums and norms for a comparison with
    tolerance on hardware whose rounding differs."""
    import hashlib

    parts = {"g_params": state.g_params, "d_params": state.d_params,
             "ema_g_params": state.ema_g_params, "g_state": state.g_state,
             "d_state": state.d_state}
    digest = hashlib.sha256()
    summary = {}
    for name, tree in parts.items():
        leaves = [np.asarray(x) for x in jax.tree.leaves(tree)]
        for leaf in leaves:
            digest.update(np.ascontiguousarray(leaf).tobytes())
        flat = np.concatenate([x.ravel().astype(np.float64) for x in leaves] or [np.zeros(0)])
        summary[name] = {"sum": float(flat.sum()), "norm": float(np.linalg.norm(flat))}
    return {"sha256": digest.hexdigest(), "summary": summary}


def numerics_platform() -> str:
    """What exact float results depend on: JAX version, backend, the CPU's vector width and
    XLA's backend optimisation level, when set."""
    flags = ""
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    isa = "avx512" if " avx512f" in flags else "avx2" if " avx2" in flags else "other"
    level = re.search(r"--xla_backend_optimization_level=(\d+)", os.environ.get("XLA_FLAGS", ""))
    return (f"jax-{jax.__version__}-{jax.default_backend()}-{isa}"
            + (f"-xla-O{level.group(1)}" if level else ""))


def xla_flags(*flags: str) -> str:
    """XLA_FLAGS for a subprocess: this process's (the tests' optimisation level) plus
    `flags`."""
    return " ".join([os.environ.get("XLA_FLAGS", ""), *flags]).strip()


def train_steps(config, num_steps: int):
    """The final state of `num_steps` train steps of a config (one compiled call per step;
    no files written)."""
    from gan_jax import config as config_lib
    from gan_jax.training.experiment import build_experiment
    from gan_jax.training.update import make_multi_step

    config_lib.validate(config)
    experiment = build_experiment(config)
    state, data = experiment.init_state(), experiment.device_data()
    multi_step = jax.jit(make_multi_step(experiment.train_step()), static_argnums=2)
    for _ in range(num_steps):
        state, _ = multi_step(state, data, 1)
    return state


def unconditional_reference_configs(mnist_data_dir: str) -> dict:
    """The unconditional runs whose final parameters must never change: a ring MLP with two
    D steps per G step and an EMA, and a small DCGAN on MNIST; (config, steps) by name."""
    from configs import dcgan_mnist

    ring = tiny_config("ring", seed=3)
    ring.train.n_disc = 2
    ring.train.ema_decay = 0.9
    mnist = dcgan_mnist.get_config()
    mnist.seed = 5
    mnist.data.data_dir = mnist_data_dir
    mnist.data.split = "test"  # 10,000 images: read in seconds.
    mnist.model.generator.width = 8
    mnist.model.discriminator.width = 8
    mnist.train.batch_size = 16
    mnist.train.ema_decay = 0.9
    return {"ring": (ring, 60), "dcgan_mnist": (mnist, 3)}
