"""PacGAN's Table 3 setting: Stacked MNIST with D at 1/4 of G's width; the plain DCGAN (the
shipped `:quarter`, chosen on seeds 100-103) and two D steps per G step (seed 100's choice), seeds
0-4, at 5,000 and 10,000 steps, and the plain DCGAN also at the config's 20,000; 26,000 samples
per generator; the EMA generator is evaluated with standing BatchNorm statistics (20 batches of
its own samples). The 5,000-step trials come first, so `--task 0` to `--task 9` give the short
table; tasks 20-24 are the plain DCGAN's 20,000-step runs.

    gan-train-classifier --config configs/classifier.py --workdir classifiers/mnist_cnn
    gan-sweep --sweep experiments/mode_collapse/table3_stacked.py \\
        --workdir workdirs/table3_stacked --parallel 2
    gan-report workdirs/table3_stacked \\
        --metrics modes_mnist_cnn_n26000,kl_modes_mnist_cnn_n26000,fd_mnist_cnn_n26000_test
"""

from gan_jax.sweep import product, sweep

CONFIG = "../../configs/stacked_mnist.py:quarter"

SETTINGS = [
    {"train.n_disc": 1},  # The plain non-saturating DCGAN: the baseline and the default.
    {"train.n_disc": 2},  # The remedy.
]


def get_sweep():
    standing = [{"eval.standing_stats": 20}]
    lengths = product(sweep("train.num_steps", [5_000, 10_000]), standing, SETTINGS)
    lengths += product(sweep("train.num_steps", [20_000]), standing, SETTINGS[:1])
    return product(lengths, sweep("seed", range(5)))
