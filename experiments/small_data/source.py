"""The run fine-tuning starts from: the study's DCGAN on all of MNIST, 600 steps, seed 100.

    gan-sweep --sweep experiments/small_data/source.py --workdir sweeps/small_data_source
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import get_config as study_config  # noqa: E402

from gan_jax.sweep import sweep  # noqa: E402


def get_config():
    config = study_config("mnist")
    config.eval.metrics = ""  # Its quality on MNIST is not what the study measures.
    return config


def get_sweep():
    return sweep("seed", [100])
