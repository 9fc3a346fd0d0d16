"""AC-GAN on MNIST: the generator of configs/cgan_mnist.py and a discriminator with an
auxiliary class head (it does not see the label; it predicts it). The class cross-entropy,
weighted by `loss.class_weight` (1, as in the paper), is added to D's loss on real and fake
digits and to G's loss on fake ones. Otherwise configs/cgan_mnist.py.

    gan-train --config configs/acgan_mnist.py --workdir workdirs/acgan_mnist
"""

from configs import cgan_mnist
from configs.dcgan_mnist import dcgan_config


def get_config():
    config = cgan_mnist.conditional(dcgan_config("mnist"), "cbn_concat", "ac")
    config.loss.class_weight = 1.0
    config.train.num_steps = cgan_mnist.NUM_STEPS["mnist"]
    return config
