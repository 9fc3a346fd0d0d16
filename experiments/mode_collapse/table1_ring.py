"""PacGAN's Table 1, ring: the shipped ring config (the plain non-saturating GAN, learning
rates decaying to 0 over 12,000 steps) and the same with D judging pairs (PacGAN2), seeds 0-9,
2,500 samples each.

    gan-sweep --sweep experiments/mode_collapse/table1_ring.py --workdir workdirs/table1_ring \\
        --parallel 2
    gan-report workdirs/table1_ring --metrics modes,high_quality,reverse_kl --percent high_quality
"""

from gan_jax.sweep import product, sweep

CONFIG = "../../configs/mog.py:ring"


def get_sweep():
    return product(sweep("model.packing", [1, 2]), sweep("seed", range(10)))
