"""Class-conditional DCGAN on 28x28x1 digits (`:mnist`, default) or clothes
(`:fashion_mnist`): a conditional-BatchNorm generator that also takes the label embedding
with z (as BigGAN's does), a projection discriminator, and the DCGAN settings of
configs/dcgan_mnist.py otherwise (width 32, z 100, batch 64, Adam 2e-4, beta1 0.5, the
non-saturating loss). Fakes are made for uniformly drawn labels. At this width, pure cBN
(--config.model.generator.conditioning=cbn) separates the classes far more slowly: see
experiments/cgan_fashion/.

Evaluation (10,000 class-balanced samples) adds `class_accuracy` and `intra_fd` to the image
metrics, read by the classifier in classifiers/<dataset>_cnn (skipped, with the command that
trains it, until it exists).

    gan-train --config configs/cgan_mnist.py --workdir workdirs/cgan_mnist
    gan-sample --workdir workdirs/cgan_mnist --per-class 8 --out digits.png
"""

from configs.dcgan_mnist import dcgan_config

NUM_STEPS = {"mnist": 4_000, "fashion_mnist": 6_000}
# The cBN tables learn this many times faster (chosen on MNIST seeds 100-102: with 1 the
# rows of a class grid were still alike after 3,000 steps, with 10 classes appear by 2,000).
CBN_SCALE = 10.0


def conditional(config, generator: str = "cbn_concat", discriminator: str = "projection"):
    """Makes a DCGAN config class-conditional with the given G and D conditioning (every
    conditioning key is set, so each can be overridden from the command line)."""
    config.model.condition = "class"
    config.model.num_classes = 10
    config.model.fake_labels = "uniform"
    config.model.generator.conditioning = generator
    config.model.generator.class_embed_dim = 32  # "concat" only.
    config.model.generator.cbn_scale = CBN_SCALE  # "cbn" only.
    config.model.discriminator.conditioning = discriminator
    return config


def get_config(dataset: str = "mnist"):
    if dataset not in NUM_STEPS:
        raise ValueError(f"the dataset must be one of {', '.join(NUM_STEPS)}, got {dataset!r}")
    config = conditional(dcgan_config(dataset))
    config.train.num_steps = NUM_STEPS[dataset]
    return config
