"""The small-data study's setting: the DCGAN with spectral norm in D (no BatchNorm there) of
experiments/modern_fashion, width 16, 1,500 steps at batch 64 (16 passes over 10% of the
data, 80 over 2%), evaluated on 5,000 samples against Fashion-MNIST's full test split in the
project classifier's features."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "modern_fashion"))

from sweep import family_overrides  # noqa: E402
from sweep import get_config as family_config  # noqa: E402

# The MNIST run that fine-tuning starts from (trained by source.py), relative to the
# directory the sweeps are run from (the repository root).
SOURCE = os.path.join("sweeps", "small_data_source", "seed=100")
NUM_STEPS = 1_500
# ADA's and APA's speed: p could cross [0, 1] in this many thousand images (chosen by tune.py).
KIMG = 10.0
LECAM_WEIGHT = 0.03  # Chosen by tune.py (0.03 over Tseng et al.'s 0.3).
FREEZE_D = 1  # Chosen by tune.py.

REMEDIES = {
    "plain": {},
    "diffaugment": {"train.diff_augment": "color,translation,cutout"},
    "ada": {"ada.pipeline": "bgc", "ada.target": 0.6, "ada.kimg": KIMG},
    "apa": {"apa.target": 0.6, "apa.kimg": KIMG},
    "lecam": {"loss.lecam_weight": LECAM_WEIGHT},
    "ada_lecam": {"ada.pipeline": "bgc", "ada.target": 0.6, "ada.kimg": KIMG,
                  "loss.lecam_weight": LECAM_WEIGHT},
    "finetune_freezed": {"train.init_from": SOURCE, "train.freeze_d": FREEZE_D},
}


def get_config(dataset: str = "fashion_mnist"):
    config = family_config()
    if dataset != "fashion_mnist":
        from configs.dcgan_mnist import dcgan_config

        base = dcgan_config(dataset)
        config.data = base.data
        config.eval.extractor_path = base.eval.extractor_path
    for key, value in family_overrides("dcgan_sn").items():
        section, _, leaf = key.rpartition(".")
        node = config
        for part in section.split("."):
            node = node[part]
        node[leaf] = value
    config.train.num_steps = NUM_STEPS
    config.train.sample_every = NUM_STEPS
    config.train.checkpoint_every = NUM_STEPS // 3
    config.train.log_every = 25  # For the plots of ADA's p and r_t.
    return config


def subset(percent: int) -> dict:
    return {"data.split": "train" if percent == 100 else f"train[:{percent}%]"}
