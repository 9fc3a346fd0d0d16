"""Evaluation metrics. Each is a pure function of arrays on the host."""
