"""Thin entry point; see gan_jax.cli.train_classifier_main."""

from gan_jax.cli import train_classifier_main

if __name__ == "__main__":
    train_classifier_main()
