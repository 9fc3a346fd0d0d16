"""One run: its loop and everything it reads and writes (the run directory, checkpoints,
metric writers, the environment record, evaluation, sample pictures, the console and the
compilation cache)."""
