"""pix2pix on edges2mnist: MNIST digits (resized to 36, cropped to 32, never flipped) drawn
from their edge maps; the setting of configs/pix2pix_edges2fashion.py. About 11 minutes on
2 CPU cores.

    gan-train --config configs/pix2pix_edges2mnist.py --workdir workdirs/edges2mnist
"""

from configs.pix2pix_edges2fashion import pix2pix_config


def get_config():
    return pix2pix_config("edges2mnist")
