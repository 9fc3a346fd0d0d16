"""StyleGAN (AdaIN) and StyleGAN2 (weight modulation) on Fashion-MNIST at 32x32, the setting
of configs/stylegan_fashion_mnist.py, each for the steps that fit the study's wall-clock budget
(budget.py), seeds 0-2; evaluated by fd, kid, precision/recall and path length in W.

    gan-sweep --sweep experiments/style_fashion/sweep_stylegan.py \
        --workdir sweeps/style_fashion --parallel 2
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import budget  # noqa: E402

from configs.stylegan_fashion_mnist import get_config as stylegan_fashion_config  # noqa: E402
from gan_jax.sweep import product, sweep, zipped  # noqa: E402

STYLES = ["adain", "modulation"]


def get_config():
    config = stylegan_fashion_config()
    config.eval.metrics = budget.EVAL_METRICS + ",ppl"
    config.eval.num_samples = budget.EVAL_SAMPLES
    return config


def get_sweep():
    styles = zipped(
        sweep("model.generator.style", STYLES),
        sweep("train.num_steps", [budget.steps(f"stylegan_{s}") for s in STYLES]),
    )
    return product(styles, sweep("seed", budget.SEEDS))
