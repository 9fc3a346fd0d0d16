"""R3GAN in the backbone study: configs/r3gan_fashion_mnist.py (R3GAN's players, the
relativistic pairing loss with R1 + R2; when conditional, the class embedding in G and a
projection D), unconditional and conditional, seeds 0-2, each at the study's budget.

    gan-sweep --sweep experiments/backbones/sweep_r3gan.py --workdir sweeps/backbones \
        --parallel 2
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import backbone_budget as budget  # noqa: E402

from configs.r3gan_fashion_mnist import get_config as family_config  # noqa: E402
from gan_jax.sweep import product, sweep  # noqa: E402

FAMILY = "r3gan"


def get_config():
    config = family_config()
    config.model.condition = "none"  # The variants choose.
    return budget.study(config)


def get_sweep():
    return product(budget.variants(FAMILY), sweep("seed", budget.SEEDS))
