"""DCGAN in the backbone study: configs/cgan_mnist.py:fashion_mnist (the DCGAN setting; when
conditional, conditional BatchNorm plus the label embedding in G and a projection D),
unconditional and conditional, seeds 0-2, each at the study's budget.

    gan-sweep --sweep experiments/backbones/sweep_dcgan.py --workdir sweeps/backbones \
        --parallel 2
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import backbone_budget as budget  # noqa: E402

from configs.cgan_mnist import get_config as cgan_config  # noqa: E402
from gan_jax.sweep import product, sweep  # noqa: E402

FAMILY = "dcgan"


def get_config():
    config = cgan_config("fashion_mnist")
    config.model.condition = "none"  # The variants choose.
    return budget.study(config)


def get_sweep():
    return product(budget.variants(FAMILY), sweep("seed", budget.SEEDS))
