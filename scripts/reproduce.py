"""Thin entry point; see gan_jax.cli.reproduce_main."""

from gan_jax.cli import reproduce_main

if __name__ == "__main__":
    reproduce_main()
