"""Console output shared by the commands: status lines that leave progress bars intact."""

from __future__ import annotations

import sys


def is_main_process() -> bool:
    """Only process 0 of a multi-process run writes logs, samples, evaluations and messages."""
    import jax

    return jax.process_index() == 0


def say(message: str) -> None:
    """A status line on stderr that does not break the progress bar (process 0 only)."""
    from tqdm import tqdm

    if is_main_process():
        tqdm.write(message, file=sys.stderr)
