"""SAGAN on CIFAR-10 (32x32x3), for accelerators: the SNGAN CIFAR-10 ResNet players with
self-attention at 16x16 in G and D, spectral norm in both, hinge loss, n_disc 1, and two
time-scale learning rates (G 1e-4, D 4e-4, Adam beta (0, 0.9)).

    gan-train --config configs/sagan_cifar10.py --workdir workdirs/sagan_cifar10
"""

from configs import sngan_cifar10


def get_config():
    config = sngan_cifar10.get_config()
    config.model.generator.attention = 16
    config.model.generator.spectral_norm = "all"
    config.model.discriminator.attention = 16
    config.train.n_disc = 1
    config.optim.g.lr = 1e-4
    config.optim.d.lr = 4e-4
    config.train.num_steps = 100_000
    return config
