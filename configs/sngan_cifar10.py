"""SNGAN on CIFAR-10 (32x32x3) with the published ResNet setting, for accelerators.

G: width 256, three up-blocks from 4x4, batch norm. D: width 128, four blocks (two down-
sampling), spectral norm on every layer. Hinge loss, n_disc 5, Adam(2e-4, 0, 0.9), batch 64,
50,000 G updates. TFDS downloads CIFAR-10 on first use. `:conditional` gives the class-
conditional variant (conditional BatchNorm in G, a projection D, as in Miyato & Koyama 2018).

    gan-train --config configs/sngan_cifar10.py --workdir workdirs/sngan_cifar10
    gan-train --config configs/sngan_cifar10.py --workdir W --config.train.precision=bfloat16
"""

from configs.sngan_fashion_mnist import sngan_config


def get_config(variant: str = "unconditional"):
    if variant not in ("unconditional", "conditional"):
        raise ValueError(f"the variant must be unconditional or conditional, got {variant!r}")
    config = sngan_config("cifar10")
    config.data.image_size = 32
    config.data.channels = 3
    config.data.random_flip = True
    config.model.generator.width = 256
    config.model.discriminator.width = 128
    if variant == "conditional":
        config.model.condition = "class"
        config.model.generator.conditioning = "cbn"
        config.model.discriminator.conditioning = "projection"
    config.train.num_steps = 50_000
    accelerator_cifar10(config, every=2_500)
    return config


def accelerator_cifar10(config, every: int) -> None:
    """The cadence and evaluation of the accelerator-sized CIFAR-10 configs: 10 steps per
    compiled call, grids and checkpoints every `every` steps, and FID, KID and IS on
    InceptionV3 features, skipped (saying how to get the weights) until
    --config.eval.extractor_path names them (docs/evaluation.md)."""
    config.train.steps_per_call = 10
    config.train.log_every = 500
    config.train.sample_every = every
    config.train.checkpoint_every = every
    config.eval.extractor = "inception_v3"
    config.eval.extractor_path = ""
    config.eval.metrics = "fd,kid,is"
