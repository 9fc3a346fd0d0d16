"""The pix2pix objective and PatchGAN ablation on edges2fashion, over seeds 10-12 (settings were
chosen on seed 1): L1 only, cGAN only, cGAN + L1, cGAN + L1 with an unconditional D (all with
a 16x16 PatchGAN), and cGAN + L1 with a 1x1 PixelGAN, 800 steps each.

    gan-sweep --sweep experiments/pix2pix_edges2fashion/sweep.py \
        --workdir sweeps/pix2pix_edges2fashion
    gan-report sweeps/pix2pix_edges2fashion --metrics l1,psnr,ssim,fd,sharpness
"""

from gan_jax.sweep import product, sweep, zipped

CONFIG = "configs/pix2pix_edges2fashion.py"
NUM_STEPS = 800


def get_sweep():
    variants = zipped(
        sweep("loss.gan_weight", [0.0, 1.0, 1.0, 1.0, 1.0]),
        sweep("loss.l1_weight", [100.0, 0.0, 100.0, 100.0, 100.0]),
        sweep("model.discriminator.sees_input", [True, True, True, False, True]),
        sweep("model.discriminator.patch", [16, 16, 16, 16, 1]),
    )
    return product(variants, sweep("train.num_steps", [NUM_STEPS]),
                   sweep("train.sample_every", [NUM_STEPS]), sweep("seed", [10, 11, 12]))
