"""Thin entry point; see gan_jax.cli.sample_main."""

from gan_jax.cli import sample_main

if __name__ == "__main__":
    sample_main()
