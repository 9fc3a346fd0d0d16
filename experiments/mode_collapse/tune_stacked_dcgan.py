"""Choosing Table 2's setting (Stacked MNIST, G and D of width 64) on seeds that Table 2 does not
report: the plain DCGAN (packing 1) against PacDCGAN2 (packing 2), seeds 100 and 101, at 5,000
and 10,000 steps, 26,000 samples per generator, standing BatchNorm statistics for the EMA
generator. The 5,000-step trials are tasks 0-3.

    gan-sweep --sweep experiments/mode_collapse/tune_stacked_dcgan.py \\
        --workdir workdirs/tune_stacked_dcgan --parallel 2
    gan-report workdirs/tune_stacked_dcgan \\
        --metrics modes_mnist_cnn_n26000,kl_modes_mnist_cnn_n26000,fd_mnist_cnn_n26000_test
"""

from gan_jax.sweep import product, sweep

CONFIG = "../../configs/stacked_mnist.py"


def get_sweep():
    return product(
        sweep("train.num_steps", [5_000, 10_000]),
        [{"eval.standing_stats": 20}],
        sweep("model.packing", [1, 2]),
        sweep("seed", [100, 101]),
    )
