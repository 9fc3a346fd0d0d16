"""Thin entry point; see gan_jax.cli.train_main."""

from gan_jax.cli import train_main

if __name__ == "__main__":
    train_main()
