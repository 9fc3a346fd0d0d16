"""The DCGAN baseline of the style-based study: configs/dcgan_mnist.py:fashion_mnist on the
same 32x32 padded images, for the steps that fit the study's wall-clock budget (budget.py),
seeds 0-2, evaluated as the style-based runs (path length in W aside).

    gan-sweep --sweep experiments/style_fashion/sweep_dcgan.py \
        --workdir sweeps/style_fashion --parallel 2
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import budget  # noqa: E402

from configs.dcgan_mnist import get_config as dcgan_mnist_config  # noqa: E402
from gan_jax.sweep import product, sweep  # noqa: E402


def get_config():
    config = dcgan_mnist_config("fashion_mnist")
    config.data.pad = 2  # 32x32, as the style-based runs see them.
    config.eval.metrics = budget.EVAL_METRICS
    config.eval.num_samples = budget.EVAL_SAMPLES
    return config


def get_sweep():
    return product(sweep("train.num_steps", [budget.steps("dcgan")]),
                   sweep("seed", budget.SEEDS))
