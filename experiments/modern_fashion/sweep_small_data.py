"""Little data: the DCGAN with spectral norm in D trained on the first 10% of Fashion-MNIST's
training set (6,000 images), with and without DiffAugment (color, translation, cutout), at
the step budget of the family study, seeds 0-2. Evaluated against the full test split.

    gan-sweep --sweep experiments/modern_fashion/sweep_small_data.py \
        --workdir sweeps/modern_fashion_small --parallel 2
    gan-report sweeps/modern_fashion_small --csv experiments/modern_fashion/small_data.csv \
        --metrics fd_fashion_mnist_cnn_n5000_test,kid_fashion_mnist_cnn_n5000_test,\
precision_fashion_mnist_cnn_n5000_test,recall_fashion_mnist_cnn_n5000_test
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sweep import SEEDS, family_overrides  # noqa: E402
from sweep import get_config as family_config  # noqa: E402

from gan_jax.sweep import product, sweep  # noqa: E402

FAMILY = "dcgan_sn"


def get_config():
    config = family_config()
    config.data.split = "train[:10%]"
    for key, value in family_overrides(FAMILY).items():
        section, _, leaf = key.rpartition(".")
        node = config
        for part in section.split("."):
            node = node[part]
        node[leaf] = value
    return config


def get_sweep():
    return product(sweep("train.diff_augment", ["", "color,translation,cutout"]),
                   sweep("seed", SEEDS))
