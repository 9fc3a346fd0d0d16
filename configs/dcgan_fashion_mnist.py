"""DCGAN on Fashion-MNIST (28x28x1); the MNIST config with another dataset.

    gan-train --config configs/dcgan_fashion_mnist.py --workdir workdirs/dcgan_fashion
"""

from configs.dcgan_mnist import dcgan_config


def get_config():
    config = dcgan_config("fashion_mnist")
    config.train.num_steps = 6_000
    return config
