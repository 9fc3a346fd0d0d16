"""Thin entry point; see gan_jax.cli.report_main."""

from gan_jax.cli import report_main

if __name__ == "__main__":
    report_main()
