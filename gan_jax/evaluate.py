"""Evaluation of a run's latest checkpoint."""

from __future__ import annotations

import os
from typing import Any

from gan_jax import rundir
from gan_jax.writers import write_json_atomic


def evaluate_workdir(workdir: str, num_samples: int | None = None,
                     overrides: dict[str, Any] | None = None,
                     baseline_split: str | None = None) -> dict[str, Any]:
    """Evaluates the raw and EMA generators of the latest checkpoint in `workdir` and writes
    `eval.json` there. `overrides` replace `eval.*` keys of the run's config (e.g. metrics or
    the extractor path, which may have been unset when the run trained). With
    `baseline_split`, real images of that split are measured the same way, under
    "real_<split>"."""
    overrides = dict(overrides or {})
    if num_samples is not None:
        overrides["num_samples"] = num_samples
    experiment, state = rundir.load_run(workdir, overrides)
    results = experiment.evaluate(state)
    if baseline_split is not None:
        results[f"real_{baseline_split}"] = experiment.evaluate_real(baseline_split)["real"]
    write_json_atomic(os.path.join(workdir, "eval.json"), results)
    return results
