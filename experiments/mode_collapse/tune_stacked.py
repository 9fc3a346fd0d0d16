"""Choosing a remedy for Stacked MNIST with D at 1/4 of G's width (PacGAN's Table 3 setting), on
seed 100 (never reported in the tables): the plain DCGAN against each change alone, 5,000
steps each. Every run also evaluates its EMA generator with standing BatchNorm statistics
(20 batches of its own samples).

    gan-sweep --sweep experiments/mode_collapse/tune_stacked.py --workdir workdirs/tune_stacked \\
        --parallel 2
    gan-report workdirs/tune_stacked \\
        --metrics modes_mnist_cnn_n26000,kl_modes_mnist_cnn_n26000,fd_mnist_cnn_n26000_test
"""

from gan_jax.sweep import product, sweep

CONFIG = "../../configs/stacked_mnist.py:quarter"

COMMON = {"train.num_steps": 5_000, "eval.standing_stats": 20}

# Each change alone on the plain DCGAN (one D step per G step, constant learning rates).
PLAIN = {"train.n_disc": 1}
REMEDIES = [
    PLAIN,  # The plain non-saturating DCGAN.
    PLAIN | {"model.packing": 2},  # PacDCGAN2.
    PLAIN | {"optim.g.schedule": "linear", "optim.d.schedule": "linear"},  # Decay to 0.
    {"train.n_disc": 2},  # The winner, now the :quarter config's default.
]


def get_sweep():
    return product([COMMON], REMEDIES, sweep("seed", [100]))
