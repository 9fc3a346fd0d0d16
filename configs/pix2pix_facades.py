"""pix2pix's setting for 256x256 aligned folders (Isola et al., 2017, facades): U-Net-256
(8 levels, width 64), a 70x70 PatchGAN seeing (output, input), batch 1 (normalisation by the
statistics of one image: instance norm, which is what BatchNorm computes on a batch of one),
dropout 0.5 on the innermost 3 decoder layers (kept on at sampling), Adam 2e-4 (beta1 0.5),
lambda 100, load 286, random crop 256, random flip, 200 epochs of 400 images. For
accelerators: a step is ~10 GFLOP.

Data: pix2pix's facades in its aligned format (train/, val/, test/ of A|B images; B is the
label map, so labels -> photo is BtoA):

    gan-train --config configs/pix2pix_facades.py --workdir workdirs/facades \
        --config.data.path=/data/facades
    gan-translate --workdir workdirs/facades --input /data/facades/test --aligned \
        --out facades_test/
"""

from gan_jax.config import base_config


def get_config():
    config = base_config()
    config.data.name = "aligned_folder"
    config.data.path = ""  # The folder that holds train/, val/ and test/.
    config.data.split = "train"
    config.data.direction = "BtoA"
    config.data.load_size = 286
    config.data.crop_size = 256
    config.data.channels = 3
    config.data.random_flip = True

    config.model.condition = "image"
    config.model.generator = dict(name="unet", width=64, depth=8, max_multiplier=8,
                                  norm="instance", dropout_rate=0.5, dropout_layers=3,
                                  dropout_at_sampling=True)
    config.model.discriminator = dict(name="patch", width=64, patch=70, norm="instance",
                                      sees_input=True)

    config.loss.name = "non_saturating"  # pix2pix's BCE, with G maximising log D(G(a), a).
    config.loss.l1_weight = 100.0
    config.loss.gan_weight = 1.0

    for player in ("g", "d"):
        config.optim[player].lr = 2e-4
        config.optim[player].b1 = 0.5
        # pix2pix keeps the rate for 100 epochs, then decays it linearly to 0 over 100 more;
        # "linear" here decays over the whole run.
        config.optim[player].schedule = "constant"

    config.train.num_steps = 80_000  # 200 epochs of the 400 facades.
    config.train.batch_size = 1
    config.train.steps_per_call = 1
    config.train.ema_decay = 0.999
    config.train.log_every = 1_000
    config.train.sample_every = 10_000
    config.train.checkpoint_every = 10_000

    config.eval.num_samples = 106  # The facades test split.
    config.eval.batch_size = 16
    config.eval.reference_split = "test"
    return config
