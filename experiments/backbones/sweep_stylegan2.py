"""StyleGAN2 in the backbone study: configs/stylegan_fashion_mnist.py (StyleGAN2: mapping,
modulation, mixing, lazy R1; when conditional, the label embedding in the mapping and a cmap
projection D), unconditional and conditional, seeds 0-2, each at the study's budget.

    gan-sweep --sweep experiments/backbones/sweep_stylegan2.py --workdir sweeps/backbones \
        --parallel 2
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import backbone_budget as budget  # noqa: E402

from configs.stylegan_fashion_mnist import get_config as family_config  # noqa: E402
from gan_jax.sweep import product, sweep  # noqa: E402

FAMILY = "stylegan2"


def get_config():
    config = family_config()
    config.model.condition = "none"  # The variants choose.
    return budget.study(config)


def get_sweep():
    return product(budget.variants(FAMILY), sweep("seed", budget.SEEDS))
