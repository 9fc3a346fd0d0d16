"""DCGAN on MNIST (28x28x1), read offline from TFDS or the shared official files.

Sized for a CPU: about 7 minutes on 2 cores for recognisable digits. Image metrics against the
test split (10,000 samples) are computed when `classifiers/mnist_cnn` has been trained
(`gan-train-classifier --config configs/classifier_mnist.py --workdir classifiers/mnist_cnn`).

    gan-train --config configs/dcgan_mnist.py --workdir workdirs/dcgan_mnist
    gan-train --config configs/dcgan_mnist.py --workdir W \
        --config.data.manual_dir=/path/to/mnist/files  # Offline: the official .gz files.
"""

import os

from gan_jax.config import base_config

# The official MNIST files shipped beside this repository, if present; else TFDS downloads.
SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "datasets")
# Where gan-train-classifier's README commands put the metric classifiers.
CLASSIFIERS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "classifiers"))
IMAGE_METRICS = "fd,kid,is,pr,dc"


def classifier_eval(config, classifier: str, metrics: str = IMAGE_METRICS) -> None:
    """Evaluates with `classifiers/<classifier>` when it has been trained, else computes no
    image metric (the resolved config.json records which)."""
    path = os.path.join(CLASSIFIERS, classifier)
    trained = os.path.exists(os.path.join(path, "classifier.json"))
    config.eval.extractor = "classifier"
    config.eval.extractor_path = path if trained else ""
    config.eval.metrics = metrics if trained else ""
    config.eval.reference_split = "test"


def dcgan_config(dataset: str) -> object:
    config = base_config()

    config.data.name = dataset
    config.data.split = "train"
    config.data.image_size = 28
    config.data.channels = 1
    config.data.crop = "none"
    config.data.random_flip = False
    config.data.data_dir = ""  # "": TFDS's default (~/tensorflow_datasets).
    manual = os.path.normpath(os.path.join(SHARED, dataset))
    config.data.manual_dir = manual if os.path.isdir(manual) else ""
    config.data.download = True

    config.model.latent_dim = 100
    config.model.latent_dist = "normal"
    config.model.generator.name = "dcgan"
    config.model.generator.width = 32
    config.model.generator.upsample = "transpose"
    config.model.generator.transpose_impl = "sub_pixel"
    config.model.discriminator.name = "dcgan"
    config.model.discriminator.width = 32

    config.loss.name = "non_saturating"
    for player in (config.optim.g, config.optim.d):
        player.lr = 2e-4
        player.b1 = 0.5
        player.b2 = 0.999

    config.train.num_steps = 4_000
    config.train.batch_size = 64
    config.train.n_disc = 1
    config.train.steps_per_call = 1  # Convolutions on XLA:CPU are slow inside loops.
    config.train.ema_decay = 0.999
    config.train.log_every = 100
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    config.eval.num_samples = 10_000
    classifier_eval(config, f"{dataset}_cnn")
    return config


def get_config():
    return dcgan_config("mnist")
