"""Converts pytorch-fid's InceptionV3 weights (.pth) to the .npz that gan_jax loads.

On a machine with internet and torch:

    wget https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
    python scripts/convert_inception_weights.py pt_inception-2015-12-05-6726825d.pth \
        inception_fid.npz

The .pth is read with `torch.load(weights_only=True)`, which executes no pickled code; the
.npz holds plain arrays and loads without torch (`--config.eval.extractor=inception_v3
--config.eval.extractor_path=inception_fid.npz`).
"""

import sys

from gan_jax.eval.inception import save_npz
from gan_jax.eval.weights import convert_main

if __name__ == "__main__":
    convert_main(sys.argv, save_npz)
