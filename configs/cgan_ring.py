"""A class-conditional GAN on the 8-Gaussian ring: each point's label is its mode, G(z, y)
draws from mode y and D(x, y) judges (point, mode) pairs. MLP players as in configs/mog.py,
with the label embedding concatenated to z in G and a projection discriminator.

Evaluation adds `class_accuracy`: the share of points made for mode k that land on mode k
(nearest centre k, within 3 standard deviations). Sample plots colour points by the mode
asked for.

    gan-train --config configs/cgan_ring.py --workdir workdirs/cgan_ring
    gan-sample --workdir workdirs/cgan_ring --label 3 --out mode3.png
"""

from configs import mog


def get_config():
    config = mog.get_config("ring")
    config.model.condition = "class"
    config.model.num_classes = 8  # Checked against the ring's number of modes.
    config.model.fake_labels = "uniform"
    config.model.generator.conditioning = "concat"
    config.model.generator.class_embed_dim = 16
    config.model.generator.cbn_scale = 1.0  # "cbn" only.
    config.model.discriminator.conditioning = "projection"
    return config
