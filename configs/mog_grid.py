"""Grid of 25 Gaussians (std 0.05) centred on {-4, -2, 0, 2, 4}^2: the mode-collapse benchmark.

    gan-train --config configs/mog_grid.py --workdir workdirs/grid
    gan-train --config configs/mog_grid.py --workdir workdirs/grid_lr --config.optim.d.lr=3e-4
"""

from gan_jax.config import base_config


def get_config():
    config = base_config()

    config.data.name = "grid"
    config.data.num_per_side = 5
    config.data.spacing = 2.0
    config.data.std = 0.05

    config.model.latent_dim = 2
    config.model.latent_dist = "normal"
    config.model.generator.hidden_dim = 256
    config.model.generator.depth = 3
    config.model.generator.activation = "relu"
    config.model.discriminator.hidden_dim = 256
    config.model.discriminator.depth = 3
    config.model.discriminator.activation = "leaky_relu"

    config.loss.name = "non_saturating"

    config.optim.g.lr = 1e-3
    config.optim.d.lr = 1e-3

    config.train.num_steps = 6_000
    config.train.batch_size = 512
    config.train.n_disc = 1
    config.train.log_every = 500
    config.train.sample_every = 1_000
    config.train.checkpoint_every = 1_000

    config.eval.num_samples = 2_500
    return config
