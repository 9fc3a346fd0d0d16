"""PacGAN's Table 2 setting (VEEGAN's DCGAN setting): Stacked MNIST with G and D of width 64,
seeds 0-4: the plain non-saturating DCGAN (packing 1) at 5,000 and 10,000 steps, and PacDCGAN2
(packing 2) at 5,000 (the config's default is 20,000); 26,000 samples per generator; the EMA
generator is evaluated with standing BatchNorm statistics (20 batches of its own samples). The
5,000-step trials are tasks 0-9.

    gan-train-classifier --config configs/classifier.py --workdir classifiers/mnist_cnn
    gan-sweep --sweep experiments/mode_collapse/table2_stacked.py \\
        --workdir workdirs/table2_stacked --parallel 2
    gan-report workdirs/table2_stacked --metrics modes_mnist_cnn_n26000,kl_modes_mnist_cnn_n26000
"""

from gan_jax.sweep import product, sweep

CONFIG = "../../configs/stacked_mnist.py"


def trials(num_steps: int, packings: list[int]) -> list[dict]:
    return product(sweep("train.num_steps", [num_steps]), [{"eval.standing_stats": 20}],
                   sweep("model.packing", packings), sweep("seed", range(5)))


def get_sweep():
    return trials(5_000, [1, 2]) + trials(10_000, [1])
