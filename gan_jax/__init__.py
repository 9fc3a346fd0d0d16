"""gan_jax: pure-functional JAX/Flax research code for GANs."""

__version__ = "0.1.0"
