"""2D Gaussian mixtures, the mode-collapse benchmarks, with MLP players (3 hidden layers of 256,
ReLU in G, leaky ReLU in D), batch 512 and Adam at 1e-3 for both.

    :ring (default)  8 Gaussians, std 0.01, on the unit circle; 5,000 steps.
    :grid            25 Gaussians, std 0.05, centred on {-4, -2, 0, 2, 4}^2; 6,000 steps.

    gan-train --config configs/mog.py --workdir workdirs/ring
    gan-train --config configs/mog.py:grid --workdir workdirs/grid --config.optim.d.lr=3e-4
"""

from ml_collections import ConfigDict

from gan_jax.config import base_config

MIXTURES = {
    "ring": (dict(name="ring", num_modes=8, radius=1.0, std=0.01), 5_000),
    "grid": (dict(name="grid", num_per_side=5, spacing=2.0, std=0.05), 6_000),
}


def get_config(mixture: str = "ring"):
    if mixture not in MIXTURES:
        raise ValueError(f"the mixture must be one of {', '.join(MIXTURES)}, got {mixture!r}")
    data, num_steps = MIXTURES[mixture]
    config = base_config()
    config.data = ConfigDict(data)
    config.model.generator = ConfigDict(dict(name="mlp", hidden_dim=256, depth=3,
                                             activation="relu"))
    config.model.discriminator = ConfigDict(dict(name="mlp", hidden_dim=256, depth=3,
                                                 activation="leaky_relu"))
    config.optim.g.lr = 1e-3
    config.optim.d.lr = 1e-3
    config.train.num_steps = num_steps
    config.train.sample_every = 1_000
    config.train.checkpoint_every = 1_000
    return config
