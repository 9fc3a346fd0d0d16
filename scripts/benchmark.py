"""Thin entry point; see gan_jax.cli.benchmark_main."""

from gan_jax.cli import benchmark_main

if __name__ == "__main__":
    benchmark_main()
