"""Which gamma for the relativistic pairing loss with R1 + R2 (R3GAN's objective) on
Fashion-MNIST? DCGAN (configs/dcgan_mnist.py:fashion_mnist) with loss.name=rpgan and
gamma = loss.r1_weight = loss.r2_weight at six values over three decades, seeds 10-12:
18 trials, all of which differ only in vectorisable scalars.

    gan-sweep --sweep experiments/gamma_sweep/sweep.py --workdir sweeps/gamma --vectorise
    gan-sweep --sweep experiments/gamma_sweep/sweep.py --workdir sweeps/gamma_one_by_one

The first trains the 18 as one compiled program, the second one after another.
"""

from configs.dcgan_mnist import get_config as dcgan_config
from gan_jax.sweep import product, sweep, zipped

# 10 ** (-2 + 0.6 k), k = 0..5, to two figures: fixed before any run, chosen by no seed.
GAMMAS = [0.01, 0.04, 0.16, 0.63, 2.5, 10.0]
SEEDS = [10, 11, 12]
NUM_STEPS = 300


def get_config():
    config = dcgan_config("fashion_mnist")
    config.loss.name = "rpgan"
    config.train.num_steps = NUM_STEPS
    config.train.checkpoint_every = NUM_STEPS
    config.train.sample_every = 0  # Grids at the end.
    config.train.log_every = 100
    config.train.progress_bar = False
    config.eval.metrics = "fd,kid"
    config.eval.num_samples = 2_000
    return config


def get_sweep():
    return product(zipped(sweep("loss.r1_weight", GAMMAS), sweep("loss.r2_weight", GAMMAS)),
                   sweep("seed", SEEDS))
