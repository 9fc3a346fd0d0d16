"""A DCGAN on your own folder of images, sized for a CPU: 32x32 RGB, G and D of width 32,
z 100, batch 64, Adam 2e-4 (beta1 0.5), the non-saturating loss, random flips, 3,000 steps
(about 4 minutes on a 2-core AMD EPYC: 14.6 steps/s at 32x32, 2.75 at 64x64), and an EMA that
ramps up (StyleGAN2-ADA's), so the EMA samples of a short run already show something.

Images go in PATH/train/<any folder name>/ (png, jpg, bmp, gif); each is centre-cropped to a
square and resized. The size must be b * 2**k with b in [3, 8] and k >= 1 (24, 28, 32, 48,
64, ...); --config.data.channels=1 trains on greyscale. No image metrics by default: give
Inception weights to measure FID (docs/evaluation.md). For pytorch/examples' 64x64 setting,
on an accelerator, use configs/dcgan64.py:folder.

    gan-train --config configs/dcgan_folder.py --workdir workdirs/mine \\
        --config.data.path=/data/mine
    gan-sample --workdir workdirs/mine --out workdirs/mine/grid.png --num 64
"""

from ml_collections import ConfigDict

from configs.dcgan_mnist import dcgan_config


def get_config():
    config = dcgan_config("image_folder")
    # image_width 0: square; set it for H x W images (for a family that builds them).
    config.data = ConfigDict(dict(name="image_folder", path="", split="train", image_size=32,
                                  image_width=0, channels=3, crop="center", random_flip=True))
    config.train.num_steps = 3_000
    config.train.ema_rampup = 0.05
    config.eval.metrics = ""
    config.eval.extractor = "inception_v3"
    config.eval.extractor_path = ""
    return config
