"""Thin entry point; see gan_jax.cli.translate_main."""

from gan_jax.cli import translate_main

if __name__ == "__main__":
    translate_main()
