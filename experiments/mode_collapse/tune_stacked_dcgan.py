"""Choosing Table 2's setting (Stacked MNIST, G and D of width 64) on seeds that Table 2 does not
report: the plain DCGAN (packing 1) against PacDCGAN2 (packing 2), seeds 100 and 101, at 5,000
and 10,000 steps, 26,000 samples per generator, standing BatchNorm statistics for the EMA
generator. The 5,000-step trials are tasks 0-3. Tasks 8-9 are a diagnostic: packing of 2 with
a batch of 128, so that D judges as many packs per step as the plain D judges samples.

    gan-sweep --sweep experiments/mode_collapse/tune_stacked_dcgan.py \\
        --workdir workdirs/tune_stacked_dcgan --parallel 2
    gan-report workdirs/tune_stacked_dcgan \\
        --metrics modes_mnist_cnn_n26000,kl_modes_mnist_cnn_n26000,fd_mnist_cnn_n26000_test
"""

from gan_jax.sweep import product, sweep

CONFIG = "../../configs/stacked_mnist.py"


def get_sweep():
    search = product(
        sweep("train.num_steps", [5_000, 10_000]),
        [{"eval.standing_stats": 20}],
        sweep("model.packing", [1, 2]),
        sweep("seed", [100, 101]),
    )
    # A diagnostic, not a candidate (it doubles G's batch): packing of 2 with as many packs
    # per step as the plain D judges samples, 128 samples in 64 packs.
    equal_packs = product(
        [{"train.num_steps": 5_000, "eval.standing_stats": 20, "model.packing": 2,
          "train.batch_size": 128}],
        sweep("seed", [100, 101]),
    )
    return search + equal_packs
