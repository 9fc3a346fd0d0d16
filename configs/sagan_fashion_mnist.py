"""SAGAN (Zhang et al. 2019) on Fashion-MNIST at 28x28x1, sized for 2 CPU cores.

The SNGAN ResNet players of configs/sngan_fashion_mnist.py with a self-attention block at
14x14 in both, spectral norm in both G and D, the hinge loss, one D update per G update and
two time-scale learning rates (G 1e-4, D 4e-4, Adam beta (0, 0.9)). 2,000 steps, about 17
minutes on 2 CPU cores (0.5 s per step).

    gan-train --config configs/sagan_fashion_mnist.py --workdir workdirs/sagan_fashion
"""

from configs.sngan_fashion_mnist import sngan_config


def sagan_config(dataset: str = "fashion_mnist", attention: int = 14):
    config = sngan_config(dataset)
    config.model.generator.attention = attention
    config.model.generator.spectral_norm = "all"
    config.model.discriminator.attention = attention
    config.train.n_disc = 1
    config.optim.g.lr = 1e-4  # Two time-scale update rule: D learns 4x faster.
    config.optim.d.lr = 4e-4
    return config


def get_config():
    return sagan_config()
