"""The Table 3 setting (D at 1/4 of G's width) on three more search seeds, 101-103 (never
reported in the tables): the plain DCGAN against two D steps per G step at 10,000 steps,
evaluated at 5,000 and 10,000 steps on 26,000 samples (EMA generator with standing BatchNorm
statistics). With seed 100 from tune_stacked_long.py, these choose the `:quarter` default.

    gan-sweep --sweep experiments/mode_collapse/tune_stacked_seeds.py \\
        --workdir workdirs/tune_stacked_seeds --parallel 2
    gan-report workdirs/tune_stacked_seeds \\
        --metrics modes_mnist_cnn_n26000,kl_modes_mnist_cnn_n26000,fd_mnist_cnn_n26000_test
"""

from gan_jax.sweep import product, sweep

CONFIG = "../../configs/stacked_mnist.py:quarter"

COMMON = {"train.num_steps": 10_000, "train.eval_every": 5_000, "eval.standing_stats": 20}


def get_sweep():
    return product([COMMON], sweep("train.n_disc", [1, 2]), sweep("seed", [101, 102, 103]))
