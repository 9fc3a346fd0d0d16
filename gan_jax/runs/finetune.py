"""Fine-tuning: a new run that starts from another run's weights (`train.init_from`).

The source is a run directory (its newest checkpoint), its `checkpoints/` directory, or one
step's checkpoint in it. The new run takes G's, D's and the EMA generator's parameters and
the models' own collections (BatchNorm statistics, spectral-norm vectors, StyleGAN's average
w) from it; with `train.init_optimizer`, both optimizer states too. Its step, key, regularisers'
running states and ADA's p start afresh. Every array must have the shape the new model
expects: the first that do not are named, before anything is trained.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import jax.numpy as jnp
import orbax.checkpoint as ocp

from gan_jax.config import ConfigError
from gan_jax.runs.checkpoint import CHECKPOINT_ITEM, leaf_shapes, saved_steps
from gan_jax.training.objective import PENALTIES
from gan_jax.training.state import GANState

# Running state kept in the model states that belongs to training, not to the models.
RUNNING_STATES = frozenset({row.name for row in PENALTIES} | {"ada", "apa"})


def locate(source: str) -> tuple[str, int]:
    """(the checkpoint directory, the step) that `source` names."""
    source = os.path.abspath(os.path.expanduser(source))
    name = os.path.basename(source.rstrip(os.sep))
    if name.isdigit() and os.path.isdir(source):
        return os.path.dirname(source), int(name)
    for directory in (os.path.join(source, "checkpoints"), source):
        steps = saved_steps(directory)
        if steps:
            return directory, steps[-1]
    raise ConfigError(f"train.init_from: no checkpoint in {source} (give a run directory, "
                      "its checkpoints/ directory or one of its steps)")


def _read(directory: str, step: int) -> dict[str, Any]:
    """The whole saved state of `step`, as saved (nested dicts of arrays)."""
    path = os.path.join(directory, str(step), CHECKPOINT_ITEM)
    checkpointer = ocp.StandardCheckpointer()
    metadata = checkpointer.metadata(path)
    tree = getattr(metadata, "item_metadata", metadata)
    tree = getattr(tree, "tree", tree)
    abstract = jax.tree.map(lambda m: jax.ShapeDtypeStruct(m.shape, m.dtype), tree)
    return checkpointer.restore(path, abstract)


def _fields(state: Any, optimizer: bool) -> dict[str, Any]:
    """The parts of a state (a GANState or a saved dict) that fine-tuning takes."""
    get = (lambda k: state[k]) if isinstance(state, dict) else (lambda k: getattr(state, k))
    parts = {key: get(key) for key in ("g_params", "d_params", "ema_g_params")}
    for key in ("g_state", "d_state"):
        parts[key] = {name: value for name, value in dict(get(key)).items()
                      if name not in RUNNING_STATES}
    if optimizer:
        parts.update(g_opt_state=get("g_opt_state"), d_opt_state=get("d_opt_state"))
    return parts


def initial_weights(source: str, state: GANState, optimizer: bool = False,
                    num_seeds: int = 1) -> GANState:
    """`state` (a new run's initial state; with a leading axis of `num_seeds` replicas when
    vectorised) with the weights of the run `source`."""
    directory, step = locate(source)
    try:
        saved = _fields(_read(directory, step), optimizer)
    except (KeyError, TypeError, ValueError, FileNotFoundError) as e:
        raise ConfigError(f"train.init_from: cannot read the checkpoint of step {step} in "
                          f"{directory}: {type(e).__name__}: {' '.join(str(e).split())[:200]}"
                          ) from None
    wanted = _fields(state, optimizer)
    have, want = leaf_shapes(saved), leaf_shapes(wanted)
    lead = (num_seeds,) if num_seeds > 1 else ()
    differences = [f"{n} is missing from it" for n in want if n not in have]
    differences += [f"{n} is in it but not in this model" for n in have if n not in want]
    differences += [f"{n} is {have[n]} there and {shape[len(lead):]} here"
                    for n, shape in want.items() if n in have and lead + have[n] != shape]
    if differences:
        more = f" (and {len(differences) - 3} more)" if len(differences) > 3 else ""
        raise ConfigError(f"train.init_from: the run in {directory} (step {step}) does not fit "
                          f"this model: {'; '.join(differences[:3])}{more}")
    # The saved tree's structure (named tuples become dicts on disk) is the new state's.
    leaves = [jnp.broadcast_to(jnp.asarray(value, target.dtype), target.shape)
              for value, target in zip(_in_order(saved, wanted), jax.tree.leaves(wanted),
                                       strict=True)]
    restored = jax.tree.unflatten(jax.tree.structure(wanted), leaves)
    updates = dict(restored)
    for key in ("g_state", "d_state"):  # Keep the new run's running states.
        updates[key] = {**dict(getattr(state, key)), **restored[key]}
    return state.replace(**updates)


def _in_order(saved: Any, wanted: Any) -> list[Any]:
    """The saved leaves in the order of `wanted`'s leaves, matched by path."""
    by_path = dict(_paths(saved))
    return [by_path[path] for path, _ in _paths(wanted)]


def _paths(tree: Any) -> list[tuple[str, Any]]:
    return [(jax.tree_util.keystr(path, simple=True, separator="/"), leaf)
            for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]]
