"""SNGAN (Miyato et al. 2018) on Fashion-MNIST at 28x28x1, sized for 2 CPU cores.

Residual G (batch norm) and residual D with spectral norm on every layer, the hinge loss,
five D updates per G update, Adam(2e-4, beta1 0, beta2 0.9), batch 64: SNGAN's CIFAR-10
setting with narrow networks (width 16) and 2,000 steps, about 30 minutes on 2 CPU cores
(0.9 s per step). The published widths want an accelerator (configs/sngan_cifar10.py).

    gan-train --config configs/sngan_fashion_mnist.py --workdir workdirs/sngan_fashion
    gan-train --config configs/sngan_fashion_mnist.py --workdir W \\
        --config.model.generator.attention=14   # Add self-attention (configs/sagan_*.py).
"""

from configs.dcgan_mnist import dcgan_config


def sngan_config(dataset: str = "fashion_mnist"):
    """SNGAN's objective and optimiser on the ResNet players, at the DCGAN configs' data."""
    config = dcgan_config(dataset)
    config.model.latent_dim = 128
    config.model.generator = dict(name="resnet", width=16, norm="batch")
    config.model.discriminator = dict(name="resnet", width=16, multipliers=(1, 1, 1, 1),
                                      downsample=2, spectral_norm="all", norm="none")
    config.loss.name = "hinge"
    config.train.n_disc = 5
    for player in (config.optim.g, config.optim.d):
        player.lr, player.b1, player.b2 = 2e-4, 0.0, 0.9
    config.train.num_steps = 2_000
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    return config


def get_config():
    return sngan_config()
