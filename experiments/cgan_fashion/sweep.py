"""Class-conditional discriminators on Fashion-MNIST: one-hot concatenation, projection and
AC-GAN, beside the unconditional DCGAN, all with the same generator and step budget, over
seeds 0-2.

    gan-sweep --sweep experiments/cgan_fashion/sweep.py --workdir sweeps/cgan_fashion \
        --parallel 2
    gan-report sweeps/cgan_fashion --metrics \
        class_accuracy_fashion_mnist_cnn_n5000,intra_fd_fashion_mnist_cnn_n5000_test,\
fd_fashion_mnist_cnn_n5000_test
"""

from gan_jax.sweep import product, sweep, zipped

CONFIG = "configs/cgan_fashion_mnist.py"
NUM_STEPS = 1_000


def get_sweep():
    variants = zipped(sweep("model.condition", ["none", "class", "class", "class"]),
                      sweep("model.discriminator.conditioning",
                            ["projection", "concat", "projection", "ac"]))
    return product(variants, sweep("train.num_steps", [NUM_STEPS]),
                   sweep("eval.num_samples", [5_000]), sweep("seed", [0, 1, 2]))
