"""Thin entry point; see gan_jax.cli.sweep_main."""

from gan_jax.cli import sweep_main

if __name__ == "__main__":
    sweep_main()
