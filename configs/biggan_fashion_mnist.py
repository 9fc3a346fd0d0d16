"""BigGAN on Fashion-MNIST at 28x28x1, class-conditional, sized for 2 CPU cores.

BigGAN's generator with its ImageNet architecture choices at small width: a shared 32-wide
class embedding and z of 120 split into three chunks of 40 (the 7x7 input and one per
up-block) condition every BatchNorm; 64, 32 and 16 channels at 7x7, 14x14 and 28x28;
orthogonal initialisation and regularisation (beta 1e-4); spectral norm in both players; a
projection D of width 16 with multipliers (1, 2, 4, 4). The hinge loss, two D updates per G
update, Adam(2e-4, 0, 0.999), batch 64, an EMA of decay 0.999 from G update 500.

    gan-train --config configs/biggan_fashion_mnist.py --workdir workdirs/biggan_fashion
    gan-train --config configs/biggan_fashion_mnist.py:unconditional --workdir W
"""

from configs.dcgan_mnist import dcgan_config


def get_config(variant: str = "conditional"):
    if variant not in ("unconditional", "conditional"):
        raise ValueError(f"the variant must be unconditional or conditional, got {variant!r}")
    config = dcgan_config("fashion_mnist")
    if variant == "conditional":
        config.model.condition = "class"
    config.model.latent_dim = 120
    config.model.generator = dict(name="biggan", width=16, multipliers=(4, 2, 1),
                                  hierarchical=True, shared_dim=32, attention=0,
                                  weight_init="ortho")
    config.model.discriminator = dict(name="biggan", width=16, multipliers=(1, 2, 4, 4),
                                      downsample=2, attention=0, weight_init="ortho")
    config.loss.name = "hinge"
    config.loss.ortho_weight = 1e-4
    config.train.n_disc = 2
    for player in (config.optim.g, config.optim.d):
        player.lr, player.b1, player.b2, player.eps = 2e-4, 0.0, 0.999, 1e-8
    config.train.batch_size = 64
    config.train.ema_decay = 0.999
    config.train.ema_start = 500
    config.train.num_steps = 3_000
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    return config
