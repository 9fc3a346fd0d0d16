"""Class-conditional StyleGAN2 with ADA on CIFAR-10 (32x32x3): StyleGAN2-ADA's `cifar` setting
(`train.py --cfg=cifar --cond=1`, FID 2.42 in its paper), for accelerators.

- G: z and w of 512, a mapping network of 2 layers (learning rate x0.01) that reads z and the
  label's embedding; 512 channels at every resolution; no style mixing.
- D: 512 channels, no residual shortcuts (`architecture="orig"`), minibatch stddev over
  groups of 32, and a projection onto an 8-layer mapping of the label (`cmap_dim` 512).
- Mixed precision: the 4 highest resolutions (here 8x8 to 32x32) compute in bfloat16 with
  every layer clamped to +-256 (the reference: FP16); 4x4, the mappings and the image sum in
  float32.
- The non-saturating loss with lazy R1, gamma 0.01 every 16 D updates; no path length.
- Adam(0.0025, 0, 0.99), with lr and beta2 rescaled for the lazy intervals (D 16; G 4, as
  the reference does even without a G regulariser); batch 64.
- The G EMA's half-life is 500k images, ramped up over the first 5% of the images seen.
- ADA with the `bgc` transforms, p adapted every 4 steps towards E[sign D(x)] = 0.6 at a
  rate of 500k images per unit of p; no x-flips.
- 100M images (1,562,500 steps), the preset's length.

TFDS downloads CIFAR-10 on first use.

    gan-train --config configs/stylegan2_ada_cifar10.py --workdir workdirs/stylegan2_ada_cifar10
    # Memory-bound device: the same updates, from 4 micro-batches of 16.
    gan-train --config configs/stylegan2_ada_cifar10.py --workdir W --config.train.grad_accum=4
"""

from configs.sngan_cifar10 import accelerator_cifar10
from configs.sngan_fashion_mnist import sngan_config
from configs.stylegan_mnist import R1_INTERVAL, lazy_adam

BATCH = 64
G_INTERVAL = 4  # StyleGAN2-ADA's G_reg_interval, which rescales G's Adam with pl_weight 0.
NUM_STEPS = round(100e6 / BATCH)


def get_config():
    config = sngan_config("cifar10")
    config.data.image_size = 32
    config.data.channels = 3
    config.data.random_flip = False
    config.model.condition = "class"
    config.model.latent_dim = 512
    precision = dict(low_precision_res=4, conv_clamp=256.0)
    config.model.generator = dict(name="stylegan", style="modulation", w_dim=512,
                                  mapping_depth=2, mapping_lr_mul=0.01, width=512,
                                  max_width=512, mixing_prob=0.0, w_avg_beta=0.995,
                                  **precision)
    config.model.discriminator = dict(name="stylegan", width=512, max_width=512,
                                      mbstd_group=32, mbstd_channels=1, architecture="orig",
                                      mapping_depth=8, cmap_dim=0, **precision)
    config.train.precision = "bfloat16"
    config.loss.name = "non_saturating"
    config.loss.r1_weight = 0.01
    config.loss.r1_interval = R1_INTERVAL
    config.loss.pl_weight = 0.0
    for player in (config.optim.g, config.optim.d):
        player.name = "adam"
        player.schedule = "constant"
        player.eps = 1e-8
    lazy_adam(config.optim.g, 0.0025, 0.99, G_INTERVAL)
    lazy_adam(config.optim.d, 0.0025, 0.99, R1_INTERVAL)
    config.train.batch_size = BATCH
    config.train.n_disc = 1
    config.train.ema_half_life = 500_000.0
    config.train.ema_rampup = 0.05
    config.ada.pipeline = "bgc"
    config.ada.update(dict(p=0.0, target=0.6, interval=4, kimg=500.0))
    config.train.num_steps = NUM_STEPS
    accelerator_cifar10(config, every=10_000)
    return config
