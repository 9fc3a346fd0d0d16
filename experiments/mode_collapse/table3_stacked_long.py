"""PacGAN's Table 3 setting (Stacked MNIST, D at 1/4 of G's width) trained for 10,000 steps, the
length the seed-100 study (tune_stacked_long.py) showed to bring the KL near the target: the
shipped `:quarter` config (two D steps per G step) and the plain DCGAN, seeds 0-4, 26,000
samples per generator (EMA generator with standing BatchNorm statistics).

    gan-sweep --sweep experiments/mode_collapse/table3_stacked_long.py \\
        --workdir workdirs/table3_stacked_long --parallel 2
    gan-report workdirs/table3_stacked_long \\
        --metrics modes_mnist_cnn_n26000,kl_modes_mnist_cnn_n26000
"""

from gan_jax.sweep import product, sweep

CONFIG = "../../configs/stacked_mnist.py:quarter"

COMMON = {"train.num_steps": 10_000, "eval.standing_stats": 20}

SETTINGS = [
    {"train.n_disc": 1},  # The plain non-saturating DCGAN.
    {"train.n_disc": 2},  # The shipped :quarter config.
]


def get_sweep():
    return product([COMMON], SETTINGS, sweep("seed", range(5)))
