"""Stacked MNIST (28x28x3, 1,000 modes) with DCGAN: the VEEGAN / PacGAN setting (PacGAN,
Table 2). Evaluation counts the modes among 26,000 samples with the MNIST classifier.

    gan-train-classifier --config configs/classifier_mnist.py --workdir classifiers/mnist_cnn
    gan-train --config configs/stacked_mnist_dcgan.py --workdir workdirs/stacked_dcgan

Modes are counted when `classifiers/mnist_cnn` has been trained (else pass
`--config.eval.metrics=modes --config.eval.extractor_path=DIR`).
"""

import os

from configs.dcgan_mnist import SHARED, classifier_eval
from gan_jax.config import base_config


def stacked_config(g_width: int, d_width: int) -> object:
    config = base_config()
    config.data.name = "stacked_mnist"
    config.data.split = "train"
    config.data.data_dir = ""
    manual = os.path.normpath(os.path.join(SHARED, "mnist"))
    config.data.manual_dir = manual if os.path.isdir(manual) else ""
    config.data.download = True

    config.model.latent_dim = 100
    config.model.generator.name = "dcgan"
    config.model.generator.width = g_width
    config.model.discriminator.name = "dcgan"
    config.model.discriminator.width = d_width

    config.loss.name = "non_saturating"
    for player in (config.optim.g, config.optim.d):
        player.lr = 2e-4
        player.b1 = 0.5
        player.b2 = 0.999

    config.train.num_steps = 20_000
    config.train.batch_size = 64
    config.train.steps_per_call = 1  # Convolutions on XLA:CPU are slow inside loops.
    config.train.log_every = 200
    config.train.sample_every = 2_000
    config.train.checkpoint_every = 1_000
    config.train.eval_every = 0

    config.eval.num_samples = 26_000  # As in VEEGAN and PacGAN.
    classifier_eval(config, "mnist_cnn", metrics="modes,fd")
    return config


def get_config():
    return stacked_config(g_width=64, d_width=64)
