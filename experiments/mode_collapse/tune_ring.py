"""Choosing a remedy on the ring, on seeds 100-104 (never reported in the tables): the
mixture study's config (learning rates decaying linearly to 0) against each change alone,
then the best two together, on seeds 100 and 101; then the two finalists on 102-104 too.

    gan-sweep --sweep experiments/mode_collapse/tune_ring.py --workdir workdirs/tune_ring \\
        --parallel 2
    gan-report workdirs/tune_ring --metrics modes,high_quality,reverse_kl --percent high_quality
"""

from gan_jax.sweep import product, sweep

CONFIG = "../mog/config.py:ring"

REMEDIES = [
    {},  # The plain non-saturating GAN.
    {"train.n_disc": 2},
    {"model.packing": 4},
    {"model.packing": 2},
    {"train.num_steps": 12_000},
    {"train.num_steps": 12_000, "model.packing": 2},  # The best two, together.
]


FINALISTS = REMEDIES[-2:]


def get_sweep():
    return (product(REMEDIES, sweep("seed", [100, 101]))
            + product(FINALISTS, sweep("seed", [102, 103, 104])))
