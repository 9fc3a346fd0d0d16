"""The mixture study's config: the plain GAN of the shipped ring / grid configs (no packing),
with both learning rates decaying linearly to zero over 6,000 ring or 15,000 grid steps.

    gan-train --config experiments/mog/config.py:grid --workdir workdirs/mog_grid
"""

from configs import mog

NUM_STEPS = {"ring": 6_000, "grid": 15_000}


def get_config(data: str = "ring"):
    config = mog.get_config(f"{data},plain")  # The non-saturating loss.
    config.train.num_steps = NUM_STEPS[data]
    config.model.packing = 1  # The plain GAN: no packing.
    config.optim.g.schedule = "linear"
    config.optim.d.schedule = "linear"
    config.train.sample_every = 0  # One picture per seed, at the end.
    config.train.checkpoint_every = 1_000
    return config
