"""Orbax checkpointing of the whole train state.

Orbax writes each step to a temporary directory and renames it when complete, so an
interrupted save (even `kill -9`) never leaves a half-written checkpoint that is restored.

With several processes (`jax.distributed`), every process calls `save` and `restore` at the
same steps: the state, identical on every process, is saved as arrays replicated over all
devices, which Orbax writes once and every process restores.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import jax
import orbax.checkpoint as ocp

from gan_jax.runs.console import is_main_process, say
from gan_jax.training.parallel import global_replicated, host_local

UNREADABLE_DIR = "unreadable_checkpoints"
# The item directory Orbax writes inside each step's checkpoint.
CHECKPOINT_ITEM = "default"


def saved_steps(directory: str) -> list[int]:
    """The steps of the finished checkpoints in `directory` (no Orbax needed): Orbax names a
    step's directory by its number only once the step is completely written."""
    if not os.path.isdir(directory):
        return []
    return sorted(int(name) for name in os.listdir(directory) if name.isdigit())


def leaf_shapes(tree: Any) -> dict[str, tuple[int, ...]]:
    """Each array's path in `tree` ('g_params/Dense_0/kernel') and its shape. Dataclass fields,
    named-tuple fields and dict keys all name a level, as Orbax saves them."""
    return {jax.tree_util.keystr(path, simple=True, separator="/"):
            tuple(getattr(leaf, "shape", ()))
            for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]}


class Checkpointer:
    """Saves and restores train states under `directory` (one subdirectory per step)."""

    def __init__(self, directory: str, max_to_keep: int):
        self.directory = os.path.abspath(directory)
        options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True)
        self._manager = ocp.CheckpointManager(self.directory, options=options,
                                              item_handlers=ocp.StandardCheckpointHandler())

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def save(self, step: int, state: Any) -> None:
        """Starts saving `state` at `step`; device buffers are copied before this returns."""
        if self._manager.latest_step() == step:
            return
        self._manager.save(step, args=ocp.args.StandardSave(global_replicated(state)),
                           force=True)

    def restore(self, template: Any, step: int | None = None) -> Any:
        """Restores the given step, or else the newest readable one, into the structure,
        dtypes and shardings of `template` (concrete arrays or `jax.ShapeDtypeStruct`s).

        A latest checkpoint that cannot be read (truncated, half-copied) while an older one
        can is reported in one line and moved to `../unreadable_checkpoints/`. When none can
        be read, nothing is moved and the newest one's error is raised. A checkpoint whose
        saved arrays do not fit `template` (another model) raises a `ValueError` naming the
        arrays that differ, before any array is read."""
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, global_replicated(template))
        self._check_fits(step if step is not None else self._manager.latest_step(), abstract)
        if step is not None:
            restored = self._manager.restore(step, args=ocp.args.StandardRestore(abstract))
            return host_local(restored)
        failed: list[tuple[int, Exception]] = []
        for candidate in sorted(self._manager.all_steps(), reverse=True):
            try:
                restored = self._manager.restore(candidate,
                                                 args=ocp.args.StandardRestore(abstract))
            except Exception as e:  # noqa: BLE001 - any unreadable file: try the one before.
                failed.append((candidate, e))
                continue
            # Only now, with an older step readable into the same template, are the newer
            # ones known to be damaged rather than, say, restored into the wrong structure.
            for bad_step, error in failed:
                self._set_aside(bad_step, error)
            return host_local(restored)
        if failed:
            raise failed[0][1]
        raise FileNotFoundError(f"no checkpoint in {self.directory}")

    def _check_fits(self, step: int | None, abstract: Any) -> None:
        """Raises if the saved array names or shapes of `step` differ from `abstract`'s. A step
        whose metadata cannot be read passes: restoring it says what is wrong."""
        try:
            saved = leaf_shapes(self._manager.item_metadata(step).tree)
        except Exception:  # noqa: BLE001 - missing or damaged metadata: the restore reports it.
            return
        wanted = leaf_shapes(abstract)
        differences = [f"{name} is missing from the checkpoint" for name in wanted
                       if name not in saved]
        differences += [f"{name} is in the checkpoint but not in this model" for name in saved
                        if name not in wanted]
        differences += [f"{name} is {saved[name]} in the checkpoint and {shape} in this model"
                        for name, shape in wanted.items() if saved.get(name, shape) != shape]
        if differences:
            more = f" (and {len(differences) - 3} more)" if len(differences) > 3 else ""
            raise ValueError(
                f"the checkpoint of step {step} in {self.directory} does not fit this model: "
                f"{'; '.join(differences[:3])}{more}. Was the model's config changed since the "
                "run saved it?")

    def _set_aside(self, step: int, error: Exception) -> None:
        aside = os.path.join(os.path.dirname(self.directory), UNREADABLE_DIR, str(step))
        reason = str(error).strip().splitlines()[0][:160] if str(error).strip() else ""
        say(f"gan_jax: the checkpoint of step {step} cannot be read ({type(error).__name__}"
            f"{': ' + reason if reason else ''}); moved it to {aside}, resuming from the "
            "newest readable one")
        if is_main_process():
            os.makedirs(os.path.dirname(aside), exist_ok=True)
            shutil.rmtree(aside, ignore_errors=True)
            os.replace(os.path.join(self.directory, str(step)), aside)
        self._manager.reload()

    def close(self) -> None:
        self._manager.wait_until_finished()
        self._manager.close()

