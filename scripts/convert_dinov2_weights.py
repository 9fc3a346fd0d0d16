"""Converts the official DINOv2 ViT-L/14 weights (.pth) to the .npz that gan_jax loads.

On a machine with internet and torch:

    wget https://dl.fbaipublicfiles.com/dinov2/dinov2_vitl14/dinov2_vitl14_pretrain.pth
    python scripts/convert_dinov2_weights.py dinov2_vitl14_pretrain.pth dinov2_vitl14.npz

The .pth is read with `torch.load(weights_only=True)`, which executes no pickled code; every
weight name is checked against the network; the .npz holds plain arrays and loads without
torch (`--config.eval.extractor=dinov2 --config.eval.extractor_path=dinov2_vitl14.npz`, or
`gan-evaluate --protocol fd_dinov2 --dinov2_path dinov2_vitl14.npz`).
"""

import sys

from gan_jax.eval.dinov2 import save_npz
from gan_jax.eval.weights import convert_main

if __name__ == "__main__":
    convert_main(sys.argv, save_npz)
