"""Choosing gamma for the grid under the relativistic pairing loss with R1 + R2, on search
seeds 100-101.

    gan-sweep --sweep experiments/relativistic/tune_grid.py --workdir workdirs/rel_tune_grid \\
        --parallel 2
    gan-report workdirs/rel_tune_grid --metrics modes,high_quality,reverse_kl \\
        --percent high_quality
"""

from gan_jax.sweep import product, sweep, zipped

CONFIG = "../../configs/mog.py:grid,rpgan"


def get_sweep():
    gammas = [0.001, 0.01, 0.1]
    objective = zipped(sweep("loss.r1_weight", gammas), sweep("loss.r2_weight", gammas))
    return product(objective, sweep("seed", [100, 101]))
