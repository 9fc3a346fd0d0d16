"""pix2pix on edges2fashion: Fashion-MNIST garments (resized to 36, cropped to 32) drawn from
their edge maps. U-Net G (width 32, 5 levels: 32x32 down to 1x1), 16x16 PatchGAN D seeing
(output, edge map), batch norm, the non-saturating loss + 100 * L1, Adam 2e-4 (beta1 0.5),
batch 16, random crop and flip. About 11 minutes on 2 CPU cores (3.4 steps/s).

Evaluation (l1, psnr, ssim, sharpness, and fd with the Fashion-MNIST classifier in
classifiers/fashion_mnist_cnn when it is trained) on the first 2,000 test pairs.

    gan-train --config configs/pix2pix_edges2fashion.py --workdir workdirs/edges2fashion
    gan-translate --workdir workdirs/edges2fashion --input sketches/ --out translated/

Ablations (see experiments/pix2pix_edges2fashion/): --config.loss.gan_weight=0 (L1 only),
--config.loss.l1_weight=0 (cGAN only), --config.model.discriminator.sees_input=False
(unconditional D), --config.model.discriminator.patch=1 (PixelGAN) or 0 (whole image).
"""

import os

from configs.dcgan_mnist import SHARED, classifier_eval
from gan_jax.config import base_config

TASK_SOURCE = {"edges2fashion": "fashion_mnist", "edges2mnist": "mnist",
               "inpaint_fashion": "fashion_mnist"}


def pix2pix_config(task: str = "edges2fashion", num_steps: int = 2_000):
    """The pix2pix setting of the derived 32x32 tasks (edges2fashion, edges2mnist,
    inpaint_fashion)."""
    source = TASK_SOURCE[task]
    config = base_config()
    manual = os.path.normpath(os.path.join(SHARED, source))
    config.data.name = task
    config.data.split = "train"
    config.data.load_size = 36
    config.data.crop_size = 32
    config.data.random_flip = source == "fashion_mnist"  # Digits are not mirror-symmetric.
    config.data.data_dir = ""
    config.data.manual_dir = manual if os.path.isdir(manual) else ""
    config.data.download = True

    config.model.condition = "image"
    config.model.generator = dict(name="unet", width=32, depth=0, max_multiplier=8,
                                  norm="batch", dropout_rate=0.5, dropout_layers=3,
                                  dropout_at_sampling=True)
    config.model.discriminator = dict(name="patch", width=32, patch=16, norm="batch",
                                      sees_input=True)

    config.loss.name = "non_saturating"
    config.loss.l1_weight = 100.0
    config.loss.gan_weight = 1.0

    for player in ("g", "d"):
        config.optim[player].lr = 2e-4
        config.optim[player].b1 = 0.5

    config.train.num_steps = num_steps
    config.train.batch_size = 16
    config.train.steps_per_call = 1  # Convolutions: straight-line code is faster on CPU.
    config.train.ema_decay = 0.999
    config.train.log_every = 200
    config.train.sample_every = 500
    config.train.checkpoint_every = 500

    config.eval.num_samples = 2_000
    config.eval.batch_size = 500
    classifier_eval(config, f"{source}_cnn", metrics="fd")
    return config


def get_config():
    return pix2pix_config("edges2fashion")
