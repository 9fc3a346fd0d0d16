"""Four GAN families on Fashion-MNIST at an equal generator-step budget, seeds 0-2: DCGAN,
DCGAN with spectral norm in D (no BatchNorm there), SNGAN's ResNet players (hinge, n_disc 5)
and SAGAN (ResNet + self-attention at 14x14, spectral norm in both, hinge, two time-scale
learning rates). Settings other than the family's published ones were not tuned.

    gan-sweep --sweep experiments/modern_fashion/sweep.py --workdir sweeps/modern_fashion \
        --parallel 2
    gan-report sweeps/modern_fashion --csv experiments/modern_fashion/results.csv \
        --metrics fd_fashion_mnist_cnn_n5000_test,kid_fashion_mnist_cnn_n5000_test,\
precision_fashion_mnist_cnn_n5000_test,recall_fashion_mnist_cnn_n5000_test
"""

from configs.dcgan_mnist import dcgan_config
from gan_jax.sweep import product, sweep

NUM_STEPS = 600
WIDTH = 16
SEEDS = [0, 1, 2]

# family -> (G, D, D norm, D spectral norm, G spectral norm, attention resolution, loss,
#            n_disc, G lr, D lr, Adam beta1, beta2)
FAMILIES = {
    "dcgan": ("dcgan", "dcgan", "batch", "none", "none", 0, "non_saturating", 1, 2e-4, 2e-4,
              0.5, 0.999),
    "dcgan_sn": ("dcgan", "dcgan", "none", "all", "none", 0, "non_saturating", 1, 2e-4, 2e-4,
                 0.5, 0.999),
    "sngan": ("resnet", "resnet", "none", "all", "none", 0, "hinge", 5, 2e-4, 2e-4, 0.0, 0.9),
    "sagan": ("resnet", "resnet", "none", "all", "all", 14, "hinge", 1, 1e-4, 4e-4, 0.0, 0.9),
}
def get_config():
    """DCGAN's data and evaluation with only the model keys both families share."""
    config = dcgan_config("fashion_mnist")
    config.model.latent_dim = 128
    config.model.generator = dict(name="dcgan", width=WIDTH, norm="batch", spectral_norm="none",
                                  attention=0)
    config.model.discriminator = dict(name="dcgan", width=WIDTH, norm="batch",
                                      spectral_norm="none", attention=0)
    config.train.num_steps = NUM_STEPS
    config.train.sample_every = NUM_STEPS
    config.train.checkpoint_every = NUM_STEPS // 2
    config.eval.num_samples = 5_000
    config.eval.metrics = "fd,kid,pr"
    return config


def family_overrides(name: str) -> dict:
    (g, d, d_norm, d_sn, g_sn, attention, loss, n_disc, g_lr, d_lr, b1, b2) = FAMILIES[name]
    return {"model.generator.name": g, "model.discriminator.name": d,
            "model.discriminator.norm": d_norm, "model.discriminator.spectral_norm": d_sn,
            "model.generator.spectral_norm": g_sn, "model.generator.attention": attention,
            "model.discriminator.attention": attention, "loss.name": loss,
            "train.n_disc": n_disc, "optim.g.lr": g_lr, "optim.d.lr": d_lr,
            "optim.g.b1": b1, "optim.d.b1": b1, "optim.g.b2": b2, "optim.d.b2": b2}


def get_sweep():
    families = [family_overrides(name) for name in FAMILIES]
    return product(families, sweep("seed", SEEDS))
