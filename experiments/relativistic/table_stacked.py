"""Stacked MNIST in PacGAN's Table 2 (DCGAN) setting under the relativistic pairing loss with
R1 + R2: `configs/stacked_mnist.py` (G and D of width 64) with the `rpgan` recipe's gamma 0.1,
set before any run (no search), and both penalties lazy every 16 D updates (StyleGAN2's
interval) to keep a step within 1.5 times the plain DCGAN's cost; seeds 0-4, 5,000 steps,
26,000 samples per generator, the EMA generator with standing BatchNorm statistics.

    gan-train-classifier --config configs/classifier.py --workdir classifiers/mnist_cnn
    gan-sweep --sweep experiments/relativistic/table_stacked.py \\
        --workdir workdirs/rel_stacked --parallel 2
    gan-report workdirs/rel_stacked \\
        --metrics modes_mnist_cnn_n26000,kl_modes_mnist_cnn_n26000,fd_mnist_cnn_n26000_test
"""

from gan_jax.sweep import product, sweep

CONFIG = "../../configs/stacked_mnist.py"


def get_sweep():
    return product(
        [{"loss.name": "rpgan", "loss.r1_weight": 0.1, "loss.r2_weight": 0.1,
          "loss.r1_interval": 16, "train.num_steps": 5_000, "eval.standing_stats": 20}],
        sweep("seed", range(5)),
    )
