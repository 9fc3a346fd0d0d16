"""The ring under the relativistic pairing loss with R1 + R2 at the gamma tune_ring.py chose
(`configs/mog.py:ring,rpgan`), seeds 0-9, 2,500 samples each.

    gan-sweep --sweep experiments/relativistic/table_ring.py --workdir workdirs/rel_ring \\
        --parallel 2
    gan-report workdirs/rel_ring --metrics modes,high_quality,reverse_kl --percent high_quality
"""

from gan_jax.sweep import sweep

CONFIG = "../../configs/mog.py:ring,rpgan"


def get_sweep():
    return sweep("seed", range(10))
