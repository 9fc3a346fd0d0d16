"""The DCGAN of pytorch/examples at 64x64x3: nz 100, ngf = ndf = 64, batch 64, Adam 2e-4
(beta1 0.5), BCE losses, on CelebA (or your own folder) resized to 64 and centre-cropped.

    gan-train --config configs/dcgan64.py --workdir workdirs/celeba64
    gan-train --config configs/dcgan64.py:folder --workdir W --config.data.path=/data/faces
        # your images in /data/faces/train/<any folder name>/
    gan-benchmark --config configs/dcgan64.py --calls 3   # random data, no dataset needed

TFDS's `celeb_a` downloads from Google Drive, which may need a manual download into
`data.manual_dir`.
"""

from ml_collections import ConfigDict

from configs.dcgan_mnist import dcgan_config


def get_config(source: str = "celeb_a"):
    config = dcgan_config("celeb_a")
    if source == "folder":
        config.data = ConfigDict(dict(name="image_folder", path="", split="train",
                                      image_width=0))
    else:
        config.data.name = source
        config.data.manual_dir = ""
    config.data.image_size = 64
    config.data.channels = 3
    config.data.crop = "center"
    config.data.random_flip = False
    config.model.generator.width = 64
    config.model.discriminator.width = 64
    config.train.num_steps = 50_000
    config.train.batch_size = 64
    config.train.log_every = 500
    config.train.sample_every = 2_500
    config.train.checkpoint_every = 2_500
    # StyleGAN2-ADA's EMA ramp-up, so the EMA samples of a short run already show something.
    config.train.ema_rampup = 0.05
    # FID on InceptionV3 features: skipped, saying how to get the weights, until
    # --config.eval.extractor_path names them (docs/evaluation.md).
    config.eval.extractor = "inception_v3"
    config.eval.extractor_path = ""
    config.eval.metrics = "fd,kid,is"
    return config
