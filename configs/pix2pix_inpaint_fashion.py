"""pix2pix on inpaint_fashion: Fashion-MNIST garments completed from their upper half (the
lower half hidden in grey). Unlike edges, the input holds no outline of what is missing: G
must infer a garment's lower half (a shirt's hem, a dress's skirt, a shoe's sole) from its
top. The setting of configs/pix2pix_edges2fashion.py, 3,000 steps. About 16 minutes on 2 CPU
cores.

    gan-train --config configs/pix2pix_inpaint_fashion.py --workdir workdirs/inpaint_fashion
"""

from configs.pix2pix_edges2fashion import pix2pix_config


def get_config():
    return pix2pix_config("inpaint_fashion", num_steps=3_000)
