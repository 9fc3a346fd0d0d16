"""Class-conditional DCGAN on Fashion-MNIST: configs/cgan_mnist.py:fashion_mnist (cBN G,
projection D, 6,000 steps).

    gan-train --config configs/cgan_fashion_mnist.py --workdir workdirs/cgan_fashion
    gan-sample --workdir workdirs/cgan_fashion --per-class 8 --out clothes.png
"""

from configs import cgan_mnist


def get_config():
    return cgan_mnist.get_config("fashion_mnist")
