"""Stacked MNIST (28x28x3, 1,000 modes: three MNIST digits as R, G and B) with DCGAN, in the
settings of the mode-collapse literature; evaluation counts modes among 26,000 samples with
the MNIST classifier (classifiers/mnist_cnn).

    :dcgan (default)  the VEEGAN / PacGAN setting (PacGAN's Table 2): G and D of width 64.
                      It trains the plain DCGAN: the search in experiments/mode_collapse
                      (seeds 100-101, at 5,000 and at 10,000 steps) found it ahead of
                      packing of 2 (--config.model.packing=2) at both lengths, far at
                      5,000 and narrowly at 10,000.
    :quarter, :half   the Unrolled-GAN small-discriminator setting (PacGAN's Table 3): D at 1/4
                      or 1/2 of G's width (16 or 32 against 64), which makes collapse likely.
                      All three train the plain DCGAN: for :quarter, the search in
                      experiments/mode_collapse (seeds 100-103, 10,000 steps) found it ahead
                      of two D steps per G step (--config.train.n_disc=2), packing and
                      decaying learning rates.

    gan-train-classifier --config configs/classifier.py --workdir classifiers/mnist_cnn
    gan-train --config configs/stacked_mnist.py --workdir workdirs/stacked_dcgan
    gan-train --config configs/stacked_mnist.py:quarter --workdir workdirs/smnist_q
"""

from ml_collections import ConfigDict

from configs.dcgan_mnist import classifier_eval, dcgan_config

G_WIDTH = 64
D_WIDTHS = {"dcgan": G_WIDTH, "quarter": G_WIDTH // 4, "half": G_WIDTH // 2}


def get_config(setting: str = "dcgan"):
    if setting not in D_WIDTHS:
        raise ValueError(f"the setting must be one of {', '.join(D_WIDTHS)}, got {setting!r}")
    config = dcgan_config("mnist")
    mnist = config.data
    config.data = ConfigDict(dict(name="stacked_mnist", split="train",
                                  data_dir=mnist.data_dir, manual_dir=mnist.manual_dir,
                                  download=mnist.download))
    config.model.generator.width = G_WIDTH
    config.model.discriminator.width = D_WIDTHS[setting]
    config.train.n_disc = 1  # For :quarter, two D steps lost: experiments/mode_collapse.
    config.model.packing = 1  # For :dcgan, packing of 2 lost the search: experiments/.

    config.train.num_steps = 20_000
    config.train.log_every = 200
    config.train.sample_every = 2_000
    config.train.checkpoint_every = 1_000

    config.eval.num_samples = 26_000  # As in VEEGAN and PacGAN.
    classifier_eval(config, "mnist_cnn", metrics="modes,fd")
    return config
