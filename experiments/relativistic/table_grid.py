"""The grid under the relativistic pairing loss with R1 + R2 (`configs/mog.py:grid,rpgan`),
seeds 0-9, 2,500 samples each.

    gan-sweep --sweep experiments/relativistic/table_grid.py --workdir workdirs/rel_grid \\
        --parallel 2
    gan-report workdirs/rel_grid --metrics modes,high_quality,reverse_kl --percent high_quality
"""

from gan_jax.sweep import sweep

CONFIG = "../../configs/mog.py:grid,rpgan"


def get_sweep():
    return sweep("seed", range(10))
