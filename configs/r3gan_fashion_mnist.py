"""R3GAN (Huang et al. 2024) on Fashion-MNIST at 28x28x1, sized for 2 CPU cores.

R3GAN's players (`gan_jax/models/r3gan.py`) in three stages of one residual block each, G's
64, 32 and 16 channels wide at 7x7, 14x14 and 28x28 (D's the mirror image), z of 64; the
relativistic pairing loss with R1 + R2, both lazy (every 16 D updates, which makes a step 1.6
times faster here), and R3GAN's recipe scaled to the run: cosine ramps over the whole run of
both learning rates (2e-4 -> 5e-5), Adam's beta2 (0.9 -> 0.99) and gamma (0.05 -> 0.005),
and an EMA whose half-life grows from one image to 10,000. Adam beta1 0, batch 64, one D
update per G update. No augmentation (the full 60,000 training images; the CIFAR-10 setting
schedules ADA's p).
`:conditional` conditions both players on the class (an embedding concatenated to z in G, a
projection in D).

    gan-train --config configs/r3gan_fashion_mnist.py --workdir workdirs/r3gan_fashion
    gan-train --config configs/r3gan_fashion_mnist.py:conditional --workdir W
"""

from configs.dcgan_mnist import dcgan_config

NUM_STEPS = 3_000


def r3gan_recipe(config, num_steps: int, gamma: float, gamma_end: float,
                 ema_half_life_end: float, schedule_steps: int = 0) -> None:
    """R3GAN's objective and cosine ramps of lr, beta2, gamma and the EMA half-life over
    `schedule_steps` train steps (0: the whole run), then holding."""
    config.loss.name = "rpgan"
    config.loss.r1_weight = gamma
    config.loss.r2_weight = gamma
    for name in ("r1_weight", "r2_weight"):
        config.schedules[name].shape = "cosine"
        config.schedules[name].end = gamma_end
        config.schedules[name].steps = schedule_steps
    for player in (config.optim.g, config.optim.d):
        player.lr, player.b1, player.b2, player.eps = 2e-4, 0.0, 0.9, 1e-8
        player.schedule, player.lr_end, player.schedule_steps = "cosine", 5e-5, schedule_steps
    for name in ("g_b2", "d_b2"):
        config.schedules[name].shape = "cosine"
        config.schedules[name].end = 0.99
        config.schedules[name].steps = schedule_steps
    # The reference ramps the half-life from 0 (a copy of G); one image is the same here.
    config.train.ema_half_life = 1.0
    config.schedules.ema_half_life.shape = "cosine"
    config.schedules.ema_half_life.end = ema_half_life_end
    config.schedules.ema_half_life.steps = schedule_steps
    config.train.n_disc = 1
    config.train.num_steps = num_steps


def get_config(variant: str = "unconditional"):
    if variant not in ("unconditional", "conditional"):
        raise ValueError(f"the variant must be unconditional or conditional, got {variant!r}")
    config = dcgan_config("fashion_mnist")
    config.model.latent_dim = 64
    config.model.generator = dict(name="r3gan", widths=(64, 32, 16), blocks=1)
    config.model.discriminator = dict(name="r3gan", widths=(16, 32, 64), blocks=1)
    if variant == "conditional":
        config.model.condition = "class"
    r3gan_recipe(config, NUM_STEPS, gamma=0.05, gamma_end=0.005, ema_half_life_end=10_000.0)
    config.loss.r1_interval = 16
    config.train.batch_size = 64
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    return config
