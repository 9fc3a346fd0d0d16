"""What sweep files are written with: `sweep`, `product` and `zipped` build the trials (see
docs/sweeps.md); `gan-sweep` runs them (gan_jax.commands.sweep).

    from gan_jax.sweep import product, sweep
"""

from gan_jax.commands.sweep import Trial, product, sweep, zipped

__all__ = ["Trial", "product", "sweep", "zipped"]
