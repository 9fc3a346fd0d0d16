"""Evaluation of a run's latest checkpoint."""

from __future__ import annotations

import os
from typing import Any

from gan_jax import config as config_lib
from gan_jax.checkpoint import Checkpointer
from gan_jax.experiment import build_experiment
from gan_jax.registry import ConfigError, did_you_mean
from gan_jax.writers import write_json_atomic


def load_run_config(workdir: str) -> config_lib.ConfigDict:
    path = os.path.join(workdir, "config.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not found: is {workdir!r} a gan_jax workdir?")
    with open(path) as f:
        saved = config_lib.from_json(f.read())
    return config_lib.with_defaults(saved, config_lib.base_config())


def restore_run(workdir: str, step: int | None = None) -> tuple[Any, Any]:
    """(experiment, saved state) of a run directory: a run, or one seed's `seed_<s>/`
    directory of a vectorised run (its state is cut from the parent's checkpoint). The
    latest checkpoint unless `step` is given."""
    from gan_jax import seeds

    config = load_run_config(workdir)
    parent = os.path.dirname(os.path.abspath(workdir))
    own = os.path.isdir(os.path.join(workdir, "checkpoints"))
    if config.train.num_seeds > 1:
        raise ConfigError(f"{workdir} trained {config.train.num_seeds} vectorised seeds; "
                          "name one of its seed_<s>/ directories")
    index = None
    if not own and os.path.exists(os.path.join(parent, "config.json")):
        parent_config = load_run_config(parent)
        index = config.seed - parent_config.seed
        if parent_config.train.num_seeds == 1 or not 0 <= index < parent_config.train.num_seeds:
            index = None
    checkpoint_dir = os.path.join(parent if index is not None else workdir, "checkpoints")
    replicas = seeds.build_replicas(parent_config if index is not None else config)
    template, experiment = seeds.init_states(replicas), replicas[index or 0]
    checkpointer = Checkpointer(checkpoint_dir, max_to_keep=1_000_000)
    try:
        if checkpointer.latest_step() is None:
            raise FileNotFoundError(f"no checkpoint in {checkpoint_dir}")
        state = checkpointer.restore(template, step)
    finally:
        checkpointer.close()
    return experiment, (seeds.unstack(state, index) if index is not None else state)


def evaluate_workdir(workdir: str, num_samples: int | None = None,
                     overrides: dict[str, Any] | None = None,
                     baseline_split: str | None = None) -> dict[str, Any]:
    """Evaluates the raw and EMA generators of the latest checkpoint in `workdir` and writes
    `eval.json` there. `overrides` replace `eval.*` keys of the run's config (e.g. metrics or
    the extractor path, which may have been unset when the run trained). With
    `baseline_split`, real images of that split are measured the same way, under
    "real_<split>"."""
    config = load_run_config(workdir)
    if num_samples is not None:
        config.eval.num_samples = num_samples
    for key, value in (overrides or {}).items():
        if key not in config.eval:
            raise ConfigError(f"unknown eval key {key!r}{did_you_mean(key, list(config.eval))}")
        config.eval[key] = value
    _, state = restore_run(workdir)
    experiment = build_experiment(config)
    results = experiment.evaluate(state)
    if baseline_split is not None:
        results[f"real_{baseline_split}"] = experiment.evaluate_real(baseline_split)["real"]
    write_json_atomic(os.path.join(workdir, "eval.json"), results)
    return results
