"""Writes the first NUM images of Fashion-MNIST's test split (the official t10k file) as PNGs,
the projection study's targets; none of them is in the training split the runs saw.

    python experiments/projection/export_targets.py ../shared/datasets/fashion_mnist \
        workdirs/projection_targets
"""

import gzip
import os
import sys

import numpy as np
from PIL import Image

NUM = 100


def main(source: str, out: str) -> None:
    with gzip.open(os.path.join(source, "t10k-images-idx3-ubyte.gz")) as f:
        data = f.read()
    count, rows, cols = (int.from_bytes(data[i : i + 4], "big") for i in (4, 8, 12))
    images = np.frombuffer(data, np.uint8, offset=16).reshape(count, rows, cols)
    os.makedirs(out, exist_ok=True)
    for i in range(NUM):
        Image.fromarray(images[i]).save(os.path.join(out, f"test_{i:03d}.png"))


if __name__ == "__main__":
    main(*sys.argv[1:3])
