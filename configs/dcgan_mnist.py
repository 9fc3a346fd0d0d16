"""DCGAN on 28x28x1 digits or clothes: `:mnist` (default, 4,000 steps) or `:fashion_mnist`
(6,000 steps), read through TFDS, offline from the official files when they lie in
../shared/datasets/. G and D of width 32, z 100, batch 64, Adam 2e-4 (beta1 0.5), the
non-saturating loss. About 7 minutes on 2 CPU cores for recognisable digits.

Image metrics (fd, kid, is, pr, dc against 10,000 test images) use the classifier in
classifiers/<dataset>_cnn; until it is trained they are skipped, with the command to train it.

    gan-train --config configs/dcgan_mnist.py --workdir workdirs/dcgan_mnist
    gan-train --config configs/dcgan_mnist.py:fashion_mnist --workdir workdirs/dcgan_fashion
    gan-train --config configs/dcgan_mnist.py:fashion_mnist,10%,ada,lecam --workdir W  # Recipes.
    gan-train --config configs/dcgan_mnist.py --workdir W \
        --config.data.manual_dir=/path/to/mnist/files  # Offline: the official .gz files.
"""

import os

from configs import recipes
from gan_jax.config import base_config

# The official MNIST files shipped beside this repository, if present; else TFDS downloads.
SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "datasets")
# Where the classifier commands of the docs put the metric classifiers.
CLASSIFIERS = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "classifiers"))
IMAGE_METRICS = "fd,kid,is,pr,dc"
NUM_STEPS = {"mnist": 4_000, "fashion_mnist": 6_000}


def classifier_eval(config, classifier: str, metrics: str = IMAGE_METRICS) -> None:
    """Evaluates with the classifier in classifiers/<classifier> (skipped, saying how to
    train it, while it is missing)."""
    config.eval.extractor = "classifier"
    config.eval.extractor_path = os.path.join(CLASSIFIERS, classifier)
    config.eval.metrics = metrics


def dcgan_config(dataset: str) -> object:
    """The DCGAN setting shared by the image configs, on a TFDS dataset read at 28x28x1."""
    config = base_config()

    manual = os.path.normpath(os.path.join(SHARED, dataset))
    config.data.name = dataset
    config.data.split = "train"
    config.data.image_size = 28
    config.data.channels = 1
    config.data.crop = "none"
    config.data.random_flip = False
    config.data.data_dir = ""  # "": TFDS's default (~/tensorflow_datasets).
    config.data.manual_dir = manual if os.path.isdir(manual) else ""
    config.data.download = True

    config.model.latent_dim = 100
    config.model.generator.name = "dcgan"
    config.model.generator.width = 32
    config.model.generator.upsample = "transpose"
    config.model.generator.transpose_impl = "sub_pixel"
    config.model.discriminator.name = "dcgan"
    config.model.discriminator.width = 32

    config.optim.g.lr = 2e-4
    config.optim.d.lr = 2e-4

    config.train.num_steps = 4_000
    config.train.batch_size = 64
    config.train.steps_per_call = 1  # Convolutions on XLA:CPU are slow inside loops.
    config.train.log_every = 100
    config.train.sample_every = 500
    config.train.checkpoint_every = 500
    config.eval.num_samples = 10_000
    classifier_eval(config, f"{dataset}_cnn")
    return config


def get_config(argument: str = "mnist"):
    """`dataset[,recipe,...]`: recipes of configs/recipes.py, e.g. "fashion_mnist,10%,ada"."""
    dataset, names = recipes.split_argument(argument)
    if dataset not in NUM_STEPS:
        raise ValueError(f"the dataset must be one of {', '.join(NUM_STEPS)}, got {dataset!r}")
    config = dcgan_config(dataset)
    config.train.num_steps = NUM_STEPS[dataset]
    return recipes.apply(config, names)
