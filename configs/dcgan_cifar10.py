"""DCGAN on CIFAR-10 (32x32x3), for accelerators. TFDS downloads CIFAR-10 on first use.

    gan-train --config configs/dcgan_cifar10.py --workdir workdirs/dcgan_cifar10
"""

from configs.dcgan_mnist import dcgan_config


def get_config():
    config = dcgan_config("cifar10")
    config.data.image_size = 32
    config.data.channels = 3
    config.data.random_flip = True
    config.model.generator.width = 64
    config.model.discriminator.width = 64
    config.train.num_steps = 50_000
    config.train.batch_size = 128
    config.train.steps_per_call = 10
    config.train.log_every = 500
    config.train.sample_every = 2_500
    config.train.checkpoint_every = 2_500
    # FID on InceptionV3 features: skipped, saying how to get the weights, until
    # --config.eval.extractor_path names them (docs/evaluation.md).
    config.eval.extractor = "inception_v3"
    config.eval.extractor_path = ""
    config.eval.metrics = "fd,kid,is"
    return config
