"""BigGAN on CIFAR-10 (32x32x3), class-conditional, for accelerators.

The default is BigGAN-PyTorch's CIFAR script (`launch_cifar_ema.sh`): G and D of width 64
with multipliers 4 (256 channels at every resolution), three up-blocks from 4x4 and four D
blocks (two down-sampling), spectral norm in both, conditional BatchNorm with per-layer class
gains (no shared embedding, no hierarchical z), z of 128, N(0, 0.02) initialisation, no
attention, the hinge loss, four D updates per G update, Adam(2e-4, 0, 0.999) for both, batch
50, no orthogonal regularisation, an EMA of decay 0.9999 from G update 1,000; 500 epochs of
the script's loader (200 images per G update), 125,000 G updates.

`:hierarchical` adds the paper's architecture choices at this size: a shared 128-wide class
embedding, z of 128 split into four chunks of 32 (the input and one per up-block),
orthogonal initialisation and orthogonal regularisation (beta 1e-4).

    gan-train --config configs/biggan_cifar10.py --workdir workdirs/biggan_cifar10
    gan-train --config configs/biggan_cifar10.py:hierarchical --workdir W
"""

from configs.sngan_cifar10 import accelerator_cifar10
from configs.sngan_fashion_mnist import sngan_config

VARIANTS = ("script", "hierarchical")


def get_config(variant: str = "script"):
    if variant not in VARIANTS:
        raise ValueError(f"the variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    config = sngan_config("cifar10")
    config.data.image_size = 32
    config.data.channels = 3
    config.data.random_flip = False
    config.model.condition = "class"
    config.model.latent_dim = 128
    config.model.generator = dict(name="biggan", width=64, multipliers=(4, 4, 4, 4),
                                  hierarchical=False, shared_dim=0, attention=0,
                                  weight_init="normal")
    config.model.discriminator = dict(name="biggan", width=64, multipliers=(4, 4, 4, 4),
                                      downsample=2, attention=0, weight_init="normal")
    if variant == "hierarchical":
        config.model.generator.update(hierarchical=True, shared_dim=128, weight_init="ortho")
        config.model.discriminator.weight_init = "ortho"
        config.loss.ortho_weight = 1e-4
    config.loss.name = "hinge"
    config.train.n_disc = 4
    for player in (config.optim.g, config.optim.d):
        player.lr, player.b1, player.b2, player.eps = 2e-4, 0.0, 0.999, 1e-8
    config.train.batch_size = 50
    config.train.ema_decay = 0.9999
    config.train.ema_start = 1_000
    config.train.num_steps = 125_000
    accelerator_cifar10(config, every=5_000)
    return config
