"""Stacked MNIST, discriminator at 1/4 of the generator's width (PacGAN Table 3 setting),
over seeds, at 5,000 steps (the config's default is 20,000; about 35 minutes a seed on 2 CPU
cores).

    gan-sweep --sweep experiments/stacked_mnist/sweep.py --workdir workdirs/smnist_q --parallel 1
    gan-report workdirs/smnist_q --metrics modes_mnist_cnn_n26000,kl_modes_mnist_cnn_n26000
"""

from gan_jax.sweep import product, sweep

CONFIG = "configs/stacked_mnist.py:quarter"


def get_sweep():
    # One D step per G step: the plain DCGAN this study measured (the config now takes two).
    return product(sweep("train.n_disc", [1]), sweep("train.num_steps", [5_000]),
                   sweep("seed", range(3)))
