"""Thin entry point; see gan_jax.cli.evaluate_main."""

from gan_jax.cli import evaluate_main

if __name__ == "__main__":
    evaluate_main()
