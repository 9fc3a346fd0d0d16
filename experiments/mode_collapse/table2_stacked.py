"""PacGAN's Table 2 setting (VEEGAN's DCGAN setting): Stacked MNIST with G and D of width 64,
the plain non-saturating DCGAN (packing 1) and PacDCGAN2 (packing 2), seeds 0-4, at 5,000 and
10,000 steps (the config's default is 20,000), 26,000 samples per generator; the EMA generator
is evaluated with standing BatchNorm statistics (20 batches of its own samples). The
5,000-step trials are tasks 0-9.

    gan-train-classifier --config configs/classifier.py --workdir classifiers/mnist_cnn
    gan-sweep --sweep experiments/mode_collapse/table2_stacked.py \\
        --workdir workdirs/table2_stacked --parallel 2
    gan-report workdirs/table2_stacked \\
        --metrics modes_mnist_cnn_n26000,kl_modes_mnist_cnn_n26000,fd_mnist_cnn_n26000_test
"""

from gan_jax.sweep import product, sweep

CONFIG = "../../configs/stacked_mnist.py"


def get_sweep():
    return product(
        sweep("train.num_steps", [5_000, 10_000]),
        [{"eval.standing_stats": 20}],
        sweep("model.packing", [1, 2]),
        sweep("seed", range(5)),
    )
