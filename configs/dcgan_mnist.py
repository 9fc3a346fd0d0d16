"""DCGAN on MNIST (28x28x1), read offline from TFDS or the shared official files.

Sized for a CPU: about 15 minutes on 2 cores for recognisable digits.

    gan-train --config configs/dcgan_mnist.py --workdir workdirs/dcgan_mnist
    gan-train --config configs/dcgan_mnist.py --workdir W \
        --config.data.manual_dir=/path/to/mnist/files  # Offline: the official .gz files.
"""

import os

from gan_jax.config import base_config

# The official MNIST files shipped beside this repository, if present; else TFDS downloads.
SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "datasets")


def dcgan_config(dataset: str) -> object:
    config = base_config()

    config.data.name = dataset
    config.data.split = "train"
    config.data.image_size = 28
    config.data.channels = 1
    config.data.crop = "none"
    config.data.random_flip = False
    config.data.data_dir = ""  # "": TFDS's default (~/tensorflow_datasets).
    manual = os.path.normpath(os.path.join(SHARED, dataset))
    config.data.manual_dir = manual if os.path.isdir(manual) else ""
    config.data.download = True

    config.model.latent_dim = 100
    config.model.latent_dist = "normal"
    config.model.generator.name = "dcgan"
    config.model.generator.width = 32
    config.model.generator.upsample = "transpose"
    config.model.generator.transpose_impl = "sub_pixel"
    config.model.discriminator.name = "dcgan"
    config.model.discriminator.width = 32

    config.loss.name = "non_saturating"
    for player in (config.optim.g, config.optim.d):
        player.lr = 2e-4
        player.b1 = 0.5
        player.b2 = 0.999

    config.train.num_steps = 4_000
    config.train.batch_size = 64
    config.train.n_disc = 1
    config.train.steps_per_call = 1  # Convolutions on XLA:CPU are slow inside loops.
    config.train.ema_decay = 0.999
    config.train.log_every = 100
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    return config


def get_config():
    return dcgan_config("mnist")
