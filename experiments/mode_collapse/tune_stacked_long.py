"""How the Stacked MNIST KL falls with training length, on seed 100 (never reported in the
tables): D at 1/4 of G's width, the plain DCGAN and two D steps per G step, 20,000 steps (the
config's schedule), evaluated every 5,000 steps on 26,000 samples (EMA generator with standing
BatchNorm statistics). The evaluations land in each run's metrics.jsonl and TensorBoard logs.

    gan-sweep --sweep experiments/mode_collapse/tune_stacked_long.py \\
        --workdir workdirs/tune_stacked_long --parallel 2
    gan-report workdirs/tune_stacked_long --by_step \\
        --metrics modes_mnist_cnn_n26000,kl_modes_mnist_cnn_n26000,fd_mnist_cnn_n26000_test
"""

from gan_jax.sweep import product, sweep

CONFIG = "../../configs/stacked_mnist.py:quarter"

COMMON = {"train.num_steps": 20_000, "train.eval_every": 5_000, "eval.standing_stats": 20}


def get_sweep():
    return product([COMMON], sweep("train.n_disc", [1, 2]), sweep("seed", [100]))
