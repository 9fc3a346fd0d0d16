"""The CNN classifiers behind the `*_mnist_cnn` and `*_fashion_mnist_cnn` image metrics (and
Stacked MNIST mode counting): `:mnist` (default) or `:fashion_mnist`.

    gan-train-classifier --config configs/classifier.py --workdir classifiers/mnist_cnn
    gan-train-classifier --config configs/classifier.py:fashion_mnist \
        --workdir classifiers/fashion_mnist_cnn

About 18 minutes each on 2 CPU cores; test accuracy 99.34% (MNIST) and 92.11% (Fashion-MNIST),
see experiments/image_metrics/.
"""

import os

from gan_jax.commands.train_classifier import base_config

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "datasets")
DATASETS = ("mnist", "fashion_mnist")


def get_config(dataset: str = "mnist"):
    if dataset not in DATASETS:
        raise ValueError(f"the dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
    config = base_config()
    config.name = f"{dataset}_cnn"
    config.data.name = dataset
    manual = os.path.normpath(os.path.join(SHARED, dataset))
    config.data.manual_dir = manual if os.path.isdir(manual) else ""
    if dataset == "fashion_mnist":
        config.train.max_shift = 1  # Clothes are centred; large shifts hurt more than help.
    return config
