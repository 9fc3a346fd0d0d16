"""Stacked MNIST with a small discriminator: the Unrolled-GAN setting (PacGAN, Table 3), where
D has 1/4 or 1/2 of the generator's width, which makes mode collapse likely.

    gan-train --config configs/stacked_mnist_small_d.py:quarter --workdir workdirs/smnist_q
    gan-train --config configs/stacked_mnist_small_d.py:half --workdir workdirs/smnist_h
"""

from configs.stacked_mnist_dcgan import stacked_config

G_WIDTH = 64
D_FRACTIONS = {"quarter": 4, "half": 2}


def get_config(size: str = "quarter"):
    if size not in D_FRACTIONS:
        raise ValueError(f"stacked_mnist_small_d: size must be one of {list(D_FRACTIONS)}, "
                         f"got {size!r}")
    return stacked_config(g_width=G_WIDTH, d_width=G_WIDTH // D_FRACTIONS[size])
