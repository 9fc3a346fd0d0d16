"""A first search on the ring, seed 0 only: which change to the study config lifts the
high-quality fraction? (Results in README.md.)

    gan-sweep --sweep experiments/mog/tune_ring.py --workdir workdirs/mog_tune_ring
"""

CONFIG = "config.py:ring"


def get_sweep():
    return [
        {"seed": 0, "loss.r1_weight": 0.1},
        {"seed": 0, "train.n_disc": 2},
        {"seed": 0, "loss.name": "hinge"},
        {"seed": 0, "train.batch_size": 1024},
        {"seed": 0, "model.latent_dim": 8},
    ]
