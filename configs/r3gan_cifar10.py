"""R3GAN on CIFAR-10 (32x32x3) with the reference's `CIFAR10` preset, for accelerators.

Class-conditional (the preset is trained with --cond=1): four stages of width 768 (4x4 to
32x32), two residual blocks each, grouped convolutions of 96 groups (16 channels each),
expansion 2, z of 64 with a 64-wide class embedding concatenated in G, a 768-wide projection
in D. The relativistic pairing loss with R1 + R2; cosine ramps over the first 20M images
(39,063 steps at batch 512), then holding, of lr 2e-4 -> 5e-5, Adam beta2 0.9 -> 0.99
(beta1 0), gamma 0.05 -> 0.005, the EMA half-life 0 -> 5M images and ADA's p 0 -> 0.55
(scheduled, not adaptive); x-flips; 250M images in all (488,282 steps), the length the
paper's 1.96 FID took. TFDS downloads CIFAR-10 on first use.

Differences from the reference: its augmentation adds cutout to the `bgc` transforms, which
this library's ADA lacks; it computes the three lowest-resolution stages in FP16
(--config.train.precision=bfloat16 computes every stage in bfloat16).

    gan-train --config configs/r3gan_cifar10.py --workdir workdirs/r3gan_cifar10
    gan-train --config configs/r3gan_cifar10.py:unconditional --workdir W
"""

from configs.r3gan_fashion_mnist import r3gan_recipe
from configs.sngan_cifar10 import accelerator_cifar10
from configs.sngan_fashion_mnist import sngan_config

BATCH = 512
DECAY_STEPS = round(20e6 / BATCH)
NUM_STEPS = round(250e6 / BATCH)


def get_config(variant: str = "conditional"):
    if variant not in ("unconditional", "conditional"):
        raise ValueError(f"the variant must be unconditional or conditional, got {variant!r}")
    config = sngan_config("cifar10")
    config.data.image_size = 32
    config.data.channels = 3
    config.data.random_flip = True
    config.model.latent_dim = 64
    stage = dict(name="r3gan", width=768, blocks=2, cardinality=96, expansion=2)
    config.model.generator = dict(stage, class_embed_dim=64)
    config.model.discriminator = dict(stage, class_embed_dim=768)
    if variant == "conditional":
        config.model.condition = "class"
    r3gan_recipe(config, NUM_STEPS, gamma=0.05, gamma_end=0.005, ema_half_life_end=5e6,
                 schedule_steps=DECAY_STEPS)
    config.ada.pipeline = "bgc"
    config.ada.p = 0.0
    config.schedules.ada_p.shape = "cosine"
    config.schedules.ada_p.end = 0.55
    config.schedules.ada_p.steps = DECAY_STEPS
    config.train.batch_size = BATCH
    accelerator_cifar10(config, every=5_000)
    return config
