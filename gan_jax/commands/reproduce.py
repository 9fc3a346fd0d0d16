"""Re-run a finished run from its saved config (seed included) and check that it matches.

On the platform the run trained on (same backend, device kind and count, JAX version, CPU
model and the instruction set XLA compiled for, from its `environment.json`) the re-run must
be bit-exact: every array of the final train state and every number of `eval.json` equal.
Across platforms, floating-point results differ in the last bits, and GAN training amplifies
such differences over thousands of steps, so only the evaluation is compared, within a stated
tolerance: |new - old| <= atol + rtol * |old|; the verdict names the fields that differ.
"""

from __future__ import annotations

import json
import os
from typing import Any

import jax
import numpy as np

from gan_jax.config import ConfigError
from gan_jax.runs import environment, rundir
from gan_jax.runs.loop import train_and_evaluate
from gan_jax.runs.writers import write_json_atomic
from gan_jax.training import replicas as replicas_lib
from gan_jax.training.checks import validate

DEFAULT_RTOL = 0.05
DEFAULT_ATOL = 0.02
MAX_LISTED = 10
MISSING = "<missing>"


def load_final_state(workdir: str, replicas: list[Any], num_steps: int) -> Any:
    """The state saved at the run's last step."""
    if num_steps not in rundir.saved_steps(rundir.checkpoint_dir(workdir)):
        raise ConfigError(f"{workdir}: no checkpoint of the final step {num_steps}; is the "
                          "run finished?")
    return rundir.restore(replicas, workdir, num_steps)


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
              atol: float = DEFAULT_ATOL, overwrite: bool = False) -> dict[str, Any]:
    """Re-trains `run_dir`'s config in `new_dir` and compares the final state and eval.json.

    `new_dir` must be new or empty unless `overwrite`, which empties it first. Returns the
    verdict (also written to `new_dir/reproduce.json`): "match", the "criterion" used
    ("bit-exact" or "eval within tolerance"), and the differences found."""
    if os.path.abspath(new_dir) == os.path.abspath(run_dir):
        raise ConfigError("--workdir: must differ from the run being reproduced")
    rundir.check_workdir(new_dir)
    if os.path.isdir(new_dir) and os.listdir(new_dir):
        if not overwrite:
            raise ConfigError(f"--workdir: {new_dir} is not empty; choose a new directory, or "
                              "add --overwrite to replace what it holds")
        rundir.discard(new_dir)
    config = rundir.load_config(run_dir)
    parent = rundir.vectorised_parent(run_dir)
    if parent is None and not os.path.isdir(os.path.join(run_dir, "checkpoints")):
        raise ConfigError(f"{run_dir} has no checkpoints/ and is no replica of a vectorised "
                          "run; only a run that saved its state can be reproduced")
    eval_path = os.path.join(run_dir, "eval.json")
    if not os.path.exists(eval_path):
        raise ConfigError(f"{run_dir}: no eval.json; only a finished run can be reproduced")
    with open(eval_path) as f:
        old_eval = json.load(f)
    validate(config)
    replicas = replicas_lib.build_replicas(config)
    if parent is None:
        old_state = load_final_state(run_dir, replicas, config.train.num_steps)
    else:  # A replica: its part of the vectorised run's state, reproduced alone.
        parent_dir, parent_config, index = parent
        old_state = replicas_lib.unstack(load_final_state(
            parent_dir, replicas_lib.build_replicas(parent_config),
            parent_config.train.num_steps), index)

    train_and_evaluate(config, new_dir)
    with open(os.path.join(new_dir, "eval.json")) as f:
        new_eval = json.load(f)
    new_state = load_final_state(new_dir, replicas, config.train.num_steps)

    old_env = environment.read(run_dir if parent is None else parent[0])
    now = environment.current()
    changed = (environment.differences(old_env, now) if old_env is not None
               else ["environment.json: not recorded"])
    state = compare_states(old_state, new_state)
    if parent is not None:
        criterion = f"eval within |new - old| <= {atol} + {rtol} * |old|"
        why = ("not held to bit-exactness: the run trained as one replica of a vectorised "
               "program and is reproduced alone, and XLA batches the replicas' arithmetic, "
               "so float32 sums run in another order (about 1e-7 relative a step); reproduce "
               f"{parent[0]} for a bit-exact check of every replica")
        eval_diff = compare_evals(old_eval, new_eval, rtol, atol)
        match = not eval_diff
    elif not changed:
        criterion, why = "bit-exact", "the run trained on this platform"
        eval_diff = compare_evals(old_eval, new_eval)
        match = state["differing_leaves"] == 0 and not eval_diff
    else:
        criterion = f"eval within |new - old| <= {atol} + {rtol} * |old|"
        why = (f"not held to bit-exactness, since the platform differs ({'; '.join(changed)}): "
               "XLA compiles other floating-point kernels for another CPU instruction set, "
               "device or version, and training amplifies last-bit differences")
        eval_diff = compare_evals(old_eval, new_eval, rtol, atol)
        match = not eval_diff
    verdict = {
        "match": match,
        "criterion": criterion,
        "why": why,
        "run": os.path.abspath(run_dir),
        "reproduction": os.path.abspath(new_dir),
        "environment": {"run": old_env, "now": now},
        "state": state,
        "eval_differences": eval_diff,
    }
    write_json_atomic(os.path.join(new_dir, "reproduce.json"), verdict)
    return verdict


def summary(verdict: dict[str, Any]) -> str:
    """The verdict in a few lines."""
    state, evals = verdict["state"], verdict["eval_differences"]
    head = "reproduced" if verdict["match"] else "NOT reproduced"
    lines = [f"{head} ({verdict['criterion']}): {verdict['run']} -> {verdict['reproduction']}"]
    if verdict["criterion"] != "bit-exact":
        lines.append(f"  {verdict['why']}")
    equal = state["leaves"] - state["differing_leaves"]
    line = f"  final state: {equal} of {state['leaves']} arrays identical"
    if state["differing_leaves"]:
        line += f", largest difference {state['max_abs_diff']:.3g}"
    lines.append(line)
    if evals:
        shown = "; ".join(f"{k}: {a} -> {b}" for k, (a, b) in list(evals.items())[:3])
        more = f" (and {len(evals) - 3} more)" if len(evals) > 3 else ""
        lines.append(f"  eval.json: {len(evals)} numbers differ: {shown}{more}")
    else:
        lines.append("  eval.json: every number matches")
    lines.append(f"  details: {os.path.join(verdict['reproduction'], 'reproduce.json')}")
    return "\n".join(lines)
