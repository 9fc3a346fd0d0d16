"""StyleGAN2 at 256x256x3 on a folder of your images, for accelerators (StyleGAN2-ADA's
`paper256` setting, without ADA).

Mapping: 8 layers of 512 with learning rate x0.01; synthesis and D: 64 channels at 256x256,
doubling per halving up to 512; style mixing 0.9; the non-saturating loss with lazy R1
(gamma 1 every 16 D updates) and lazy path-length regularisation (weight 2 every 4 G updates,
over half the batch), each player's Adam(0.0025, 0, 0.99) rescaled for its interval; batch 64;
G EMA with a half-life of 10,000 images. `:modulation` (default) or `:adain` (StyleGAN's mechanism).

    gan-train --config configs/stylegan2_folder256.py --workdir W \\
        --config.data.path=/data/faces   # your images in /data/faces/train/<any folder>/
    gan-sample --workdir W --mode mixing --num 4 --steps 6 --out mixing.png
"""

from ml_collections import ConfigDict

from configs.dcgan64 import get_config as dcgan64_config
from configs.stylegan_mnist import R1_INTERVAL, lazy_adam

PL_INTERVAL = 4

BATCH = 64
EMA_HALF_LIFE_IMAGES = 10_000


def get_config(style: str = "modulation"):
    config = dcgan64_config("folder")
    config.data = ConfigDict(dict(name="image_folder", path="", split="train", image_size=256,
                                  channels=3, crop="center", random_flip=True))
    config.model.latent_dim = 512
    config.model.generator = dict(name="stylegan", style=style, w_dim=512, mapping_depth=8,
                                  mapping_lr_mul=0.01, width=64, max_width=512,
                                  mixing_prob=0.9, w_avg_beta=0.995)
    config.model.discriminator = dict(name="stylegan", width=64, max_width=512,
                                      mbstd_group=4, mbstd_channels=1)
    config.loss.name = "non_saturating"
    config.loss.r1_weight = 1.0
    config.loss.r1_interval = R1_INTERVAL
    config.loss.update(dict(pl_weight=2.0, pl_interval=PL_INTERVAL, pl_decay=0.01,
                            pl_batch_shrink=2))
    lazy_adam(config.optim.g, 0.0025, 0.99, PL_INTERVAL)
    lazy_adam(config.optim.d, 0.0025, 0.99, R1_INTERVAL)
    config.train.batch_size = BATCH
    # StyleGAN2 halves the EMA's weight on the past every 10k images.
    config.train.ema_decay = 0.5 ** (BATCH / EMA_HALF_LIFE_IMAGES)
    config.train.ema_rampup = 0.0  # paper256 has none; its half-life is 156 steps anyway.
    config.train.num_steps = 400_000
    config.train.log_every = 500
    config.train.sample_every = 5_000
    config.train.checkpoint_every = 5_000
    config.eval.metrics = "fd,kid,pr,ppl"
    return config
