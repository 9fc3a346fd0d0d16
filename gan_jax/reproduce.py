"""Re-run a finished run from its saved config (seed included) and check that it matches.

On the platform the run trained on (same backend, device kind, device count and JAX version,
from its `environment.json`) the re-run must be bit-exact: every array of the final train
state and every number of `eval.json` equal. Across platforms, floating-point results differ
in the last bits, and GAN training amplifies such differences over thousands of steps, so
only the evaluation is compared, within a stated tolerance: |new - old| <= atol + rtol * |old|.
"""

from __future__ import annotations

import json
import os
from typing import Any

import jax
import numpy as np

from gan_jax import environment, seeds
from gan_jax.checkpoint import Checkpointer
from gan_jax.evaluate import load_run_config
from gan_jax.registry import ConfigError
from gan_jax.writers import write_json_atomic

DEFAULT_RTOL = 0.05
DEFAULT_ATOL = 0.02
MAX_LISTED = 10
MISSING = "<missing>"


def load_final_state(workdir: str, config: Any) -> Any:
    """The state saved at the run's last step."""
    template = seeds.init_states(seeds.build_replicas(config))
    checkpointer = Checkpointer(os.path.join(workdir, "checkpoints"), max_to_keep=1_000_000)
    try:
        if checkpointer.latest_step() != config.train.num_steps:
            raise ConfigError(f"{workdir}: no checkpoint of the final step "
                              f"{config.train.num_steps}; is the run finished?")
        return checkpointer.restore(template, config.train.num_steps)
    finally:
        checkpointer.close()


def compare_states(old: Any, new: Any) -> dict[str, Any]:
    """Leaf-by-leaf comparison: counts, the largest absolute difference, the differing paths."""
    old_leaves = jax.tree_util.tree_flatten_with_path(old)[0]
    new_leaves = jax.tree.leaves(new)
    differing, largest = [], 0.0
    for (path, a), b in zip(old_leaves, new_leaves, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or not np.array_equal(a, b):
            differing.append(jax.tree_util.keystr(path))
            if a.shape == b.shape and np.issubdtype(a.dtype, np.number):
                largest = max(largest, float(np.max(np.abs(a.astype(np.float64) - b))))
            else:
                largest = float("inf")
    return {"leaves": len(old_leaves), "differing_leaves": len(differing),
            "max_abs_diff": largest, "differing": differing[:MAX_LISTED]}


def _numbers(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict):
        out = {}
        for key, value in tree.items():
            out.update(_numbers(value, f"{prefix}{key}/"))
        return out
    return {prefix.rstrip("/"): tree}


def compare_evals(old: dict[str, Any], new: dict[str, Any], rtol: float = 0.0,
                  atol: float = 0.0) -> dict[str, list[Any]]:
    """{key: [old, new]} of the eval.json entries that differ by more than the tolerance (none
    for exact comparison); a key present in only one of them differs."""
    old_flat, new_flat = _numbers(old), _numbers(new)
    differing = {}
    for key in sorted(set(old_flat) | set(new_flat)):
        a, b = old_flat.get(key, MISSING), new_flat.get(key, MISSING)
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
        if numeric and abs(b - a) <= atol + rtol * abs(a):
            continue
        if not numeric and a == b:
            continue
        differing[key] = [a, b]
    return differing


def reproduce(run_dir: str, new_dir: str, rtol: float = DEFAULT_RTOL,
              atol: float = DEFAULT_ATOL) -> dict[str, Any]:
    """Re-trains `run_dir`'s config in `new_dir` and compares the final state and eval.json.

    Returns the verdict (also written to `new_dir/reproduce.json`): "match", the "criterion"
    used ("bit-exact" or "eval within tolerance"), and the differences found."""
    from gan_jax.train import train_and_evaluate

    config = load_run_config(run_dir)
    if not os.path.isdir(os.path.join(run_dir, "checkpoints")):
        raise ConfigError(f"{run_dir} has no checkpoints/; for one seed of a vectorised run, "
                          "reproduce the whole run (its parent directory)")
    eval_path = os.path.join(run_dir, "eval.json")
    if not os.path.exists(eval_path):
        raise ConfigError(f"{run_dir}: no eval.json; only a finished run can be reproduced")
    with open(eval_path) as f:
        old_eval = json.load(f)
    old_state = load_final_state(run_dir, config)
    if os.path.abspath(new_dir) == os.path.abspath(run_dir):
        raise ConfigError("--workdir: must differ from the run being reproduced")

    train_and_evaluate(config, new_dir)
    with open(os.path.join(new_dir, "eval.json")) as f:
        new_eval = json.load(f)
    new_state = load_final_state(new_dir, config)

    old_env, now = environment.read(run_dir), environment.current()
    same_platform = old_env is not None and all(e == now for e in old_env)
    state = compare_states(old_state, new_state)
    if same_platform:
        criterion = "bit-exact"
        eval_diff = compare_evals(old_eval, new_eval)
        match = state["differing_leaves"] == 0 and not eval_diff
    else:
        criterion = f"eval within |new - old| <= {atol} + {rtol} * |old|"
        eval_diff = compare_evals(old_eval, new_eval, rtol, atol)
        match = not eval_diff
    verdict = {
        "match": match,
        "criterion": criterion,
        "run": os.path.abspath(run_dir),
        "reproduction": os.path.abspath(new_dir),
        "environment": {"run": old_env, "now": now},
        "state": state,
        "eval_differences": eval_diff,
    }
    write_json_atomic(os.path.join(new_dir, "reproduce.json"), verdict)
    return verdict
