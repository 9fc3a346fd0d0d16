"""Thin entry point; see gan_jax.cli.project_main."""

from gan_jax.cli import project_main

if __name__ == "__main__":
    project_main()
