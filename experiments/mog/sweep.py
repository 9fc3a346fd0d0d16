"""PacGAN's Table 1 protocol (2,500 samples, 3 standard deviations) over seeds 0-9.

    gan-sweep --sweep experiments/mog/sweep.py --workdir workdirs/mog_ring
    gan-sweep --sweep experiments/mog/sweep.py --workdir workdirs/mog_grid \
        --config experiments/mog/config.py:grid
    gan-report workdirs/mog_ring --metrics modes,high_quality,reverse_kl --percent high_quality
"""

from gan_jax.sweep import sweep

CONFIG = "config.py:ring"


def get_sweep():
    return sweep("seed", range(10))
