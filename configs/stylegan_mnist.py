"""Style-based GAN on 32x32x1 digits (28x28 MNIST padded by 2 pixels), sized for 2 CPU cores.

`:modulation` (default) is StyleGAN2's generator (weight modulation and demodulation);
`:adain` StyleGAN's (adaptive instance normalisation). Both: an 8-layer mapping network with
learning rate x0.01, w and z of 128, style mixing with probability 0.9, per-pixel noise,
low-pass-filtered upsampling, summed toRGB outputs; StyleGAN2's residual D with the minibatch
standard deviation; the non-saturating logistic loss with lazy R1 (gamma 0.1 every 16 D
updates, optimiser rescaled as in StyleGAN2); Adam(0.0025, beta1 0, beta2 0.99), batch 32,
G EMA. Widths are narrow (16 channels at 32x32, 64 at 8x8 and 4x4): 5,000 steps take about
31 minutes on 2 CPU cores (0.37 s per step).

    gan-train --config configs/stylegan_mnist.py --workdir workdirs/stylegan_mnist
    gan-train --config configs/stylegan_mnist.py:adain --workdir workdirs/stylegan1_mnist
    gan-sample --workdir workdirs/stylegan_mnist --mode truncation --out psi.png
"""

from configs.dcgan_mnist import dcgan_config

NUM_STEPS = 5_000
R1_INTERVAL = 16


def lazy_adam(player, lr: float, b2: float, interval: int) -> None:
    """Adam(lr, 0, b2) for a player regularised every `interval` updates: StyleGAN2 scales
    lr and the betas by c = interval / (interval + 1), so the optimiser sees the same
    effective step with the regulariser folded in."""
    c = interval / (interval + 1)
    player.lr, player.b1, player.b2 = lr * c, 0.0, b2**c


def stylegan_config(dataset: str = "mnist", style: str = "modulation"):
    """The style-based setting on a TFDS dataset read at 28x28x1 and padded to 32x32."""
    config = dcgan_config(dataset)
    config.data.pad = 2
    config.model.latent_dim = 128
    config.model.generator = dict(name="stylegan", style=style, w_dim=128, mapping_depth=8,
                                  mapping_lr_mul=0.01, width=16, max_width=64,
                                  mixing_prob=0.9, w_avg_beta=0.995)
    config.model.discriminator = dict(name="stylegan", width=16, max_width=64,
                                      mbstd_group=4, mbstd_channels=1)
    config.loss.name = "non_saturating"
    config.loss.r1_weight = 0.1
    config.loss.r1_interval = R1_INTERVAL
    config.optim.g.lr, config.optim.g.b1, config.optim.g.b2 = 0.0025, 0.0, 0.99
    lazy_adam(config.optim.d, 0.0025, 0.99, R1_INTERVAL)
    config.train.batch_size = 32
    config.train.ema_decay = 0.999
    config.train.num_steps = NUM_STEPS
    return config


def get_config(style: str = "modulation"):
    return stylegan_config("mnist", style)
