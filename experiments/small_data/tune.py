"""Choosing the study's free settings on seed 100, at 10% of the data, before the reported
seeds ran: ADA's speed (kimg, also used for APA), LeCam's weight and how many of D's modules
FreezeD freezes. The rule: the lower raw fd.

    gan-sweep --sweep experiments/small_data/tune.py --workdir sweeps/small_data_tune --parallel 2
    gan-report sweeps/small_data_tune --metrics fd_fashion_mnist_cnn_n5000_test,\\
kid_fashion_mnist_cnn_n5000_test
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import SOURCE, subset  # noqa: E402
from common import get_config as study_config  # noqa: E402

from gan_jax.sweep import product, sweep  # noqa: E402


def get_config():
    return study_config()


def get_sweep():
    ada = [{"ada.pipeline": "bgc", "ada.target": 0.6, "ada.kimg": k} for k in (10.0, 50.0)]
    lecam = [{"loss.lecam_weight": w} for w in (0.03, 0.3)]
    freezed = [{"train.init_from": SOURCE, "train.freeze_d": k} for k in (1, 2)]
    return product([subset(10)], ada + lecam + freezed, sweep("seed", [100]))
