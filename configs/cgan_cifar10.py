"""Class-conditional DCGAN on CIFAR-10 (32x32x3), for accelerators: conditional BatchNorm
in G, a projection discriminator and the hinge loss, with Adam 2e-4, betas (0, 0.9) as in
Miyato & Koyama (2018). TFDS downloads CIFAR-10 on first use; FID and intra-FD need the
InceptionV3 weights (--config.eval.extractor_path, see docs/evaluation.md), and
class_accuracy needs a CIFAR-10 classifier as the extractor.

    gan-train --config configs/cgan_cifar10.py --workdir workdirs/cgan_cifar10
"""

from configs import cgan_mnist, dcgan_cifar10


def get_config():
    config = cgan_mnist.conditional(dcgan_cifar10.get_config(), "cbn", "projection")
    config.loss.name = "hinge"
    for player in (config.optim.g, config.optim.d):
        player.lr = 2e-4
        player.b1 = 0.0
        player.b2 = 0.9
    return config
