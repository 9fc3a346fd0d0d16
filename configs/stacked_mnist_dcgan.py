"""Stacked MNIST (28x28x3, 1,000 modes) with DCGAN: the VEEGAN / PacGAN setting (PacGAN,
Table 2). Evaluation counts the modes among 26,000 samples with the MNIST classifier.

    gan-train-classifier --config configs/classifier_mnist.py --workdir classifiers/mnist_cnn
    gan-train --config configs/stacked_mnist_dcgan.py --workdir workdirs/stacked_dcgan

Modes are counted when `classifiers/mnist_cnn` has been trained (else pass
`--config.eval.metrics=modes --config.eval.extractor_path=DIR`).
"""

from ml_collections import ConfigDict

from configs.dcgan_mnist import classifier_eval, dcgan_config


def stacked_config(g_width: int, d_width: int) -> object:
    """The DCGAN MNIST config on Stacked MNIST, with the widths given."""
    config = dcgan_config("mnist")
    mnist = config.data
    config.data = ConfigDict(dict(name="stacked_mnist", split="train",
                                  data_dir=mnist.data_dir, manual_dir=mnist.manual_dir,
                                  download=mnist.download))
    config.model.generator.width = g_width
    config.model.discriminator.width = d_width

    config.train.num_steps = 20_000
    config.train.log_every = 200
    config.train.sample_every = 2_000
    config.train.checkpoint_every = 1_000

    config.eval.num_samples = 26_000  # As in VEEGAN and PacGAN.
    classifier_eval(config, "mnist_cnn", metrics="modes,fd")
    return config


def get_config():
    return stacked_config(g_width=64, d_width=64)
