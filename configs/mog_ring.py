"""Ring of 8 Gaussians (std 0.01) on the unit circle: the mode-collapse benchmark.

    gan-train --config configs/mog_ring.py --workdir workdirs/ring
    gan-train --config configs/mog_ring.py --workdir workdirs/ring_lr --config.optim.d.lr=3e-4
"""

from gan_jax.config import base_config


def get_config():
    config = base_config()

    config.data.name = "ring"
    config.data.num_modes = 8
    config.data.radius = 1.0
    config.data.std = 0.01

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

    config.train.num_steps = 5_000
    config.train.batch_size = 512
    config.train.n_disc = 1
    config.train.log_every = 500
    config.train.sample_every = 1_000
    config.train.checkpoint_every = 1_000

    config.eval.num_samples = 2_500
    return config
