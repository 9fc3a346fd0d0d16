"""The small-data study: Fashion-MNIST with 10% (6,000) and 2% (1,200) of its training images,
the plain GAN against DiffAugment, ADA, APA, LeCam, ADA + LeCam and fine-tuning from an MNIST
run with FreezeD, and the plain GAN on all the data; seeds 0-2, 600 steps each.

    gan-sweep --sweep experiments/small_data/source.py --workdir sweeps/small_data_source
    gan-sweep --sweep experiments/small_data/sweep.py --workdir sweeps/small_data --parallel 2
    gan-report sweeps/small_data --csv experiments/small_data/results.csv \\
        --metrics fd_fashion_mnist_cnn_n5000_test,kid_fashion_mnist_cnn_n5000_test
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import REMEDIES, subset  # noqa: E402
from common import get_config as study_config  # noqa: E402

from gan_jax.sweep import product, sweep  # noqa: E402

SEEDS = [0, 1, 2]
# At 2%, the plain GAN and the two ADA remedies, fixed before any run.
AT_TWO_PERCENT = ("plain", "ada", "ada_lecam")


def get_config():
    return study_config()


def get_sweep():
    trials = [subset(100) | REMEDIES["plain"]]
    trials += [subset(10) | REMEDIES[name] for name in REMEDIES]
    trials += [subset(2) | REMEDIES[name] for name in AT_TWO_PERCENT]
    return product(trials, sweep("seed", SEEDS))
