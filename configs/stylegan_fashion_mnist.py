"""Style-based GAN on 32x32x1 clothes (28x28 Fashion-MNIST padded by 2 pixels): the setting
of configs/stylegan_mnist.py. `:modulation` (default, StyleGAN2) or `:adain` (StyleGAN).

    gan-train --config configs/stylegan_fashion_mnist.py --workdir workdirs/stylegan_fashion
    gan-train --config configs/stylegan_fashion_mnist.py:adain --workdir W
"""

from configs.stylegan_mnist import stylegan_config


def get_config(style: str = "modulation"):
    return stylegan_config("fashion_mnist", style)
