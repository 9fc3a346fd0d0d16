"""Choosing gamma for the ring under the relativistic pairing loss with R1 + R2 (gamma / 2 each,
as R3GAN weights them), on search seeds 100-101 that the reported table does not use.

    gan-sweep --sweep experiments/relativistic/tune_ring.py --workdir workdirs/rel_tune_ring \\
        --parallel 2
    gan-report workdirs/rel_tune_ring --metrics modes,high_quality,reverse_kl \\
        --percent high_quality
"""

from gan_jax.sweep import product, sweep, zipped

CONFIG = "../../configs/mog.py:ring"


def get_sweep():
    gammas = [0.001, 0.003, 0.01, 0.1, 1.0]  # The first round took 0.01-1; then lower.
    objective = product(sweep("loss.name", ["rpgan"]),
                        zipped(sweep("loss.r1_weight", gammas), sweep("loss.r2_weight", gammas)))
    return product(objective, sweep("seed", [100, 101]))
