"""Orbax checkpointing of the whole train state.

Orbax writes each step to a temporary directory and renames it when complete, so an
interrupted save (even `kill -9`) never leaves a half-written checkpoint that is restored.

With several processes (`jax.distributed`), every process calls `save` and `restore` at the
same steps: the state, identical on every process, is saved as arrays replicated over all
devices, which Orbax writes once and every process restores.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import orbax.checkpoint as ocp

from gan_jax.parallel import global_replicated, host_local


class Checkpointer:
    """Saves and restores train states under `directory` (one subdirectory per step)."""

    def __init__(self, directory: str, max_to_keep: int):
        self.directory = os.path.abspath(directory)
        options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True)
        self._manager = ocp.CheckpointManager(self.directory, options=options)

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def save(self, step: int, state: Any) -> None:
        """Starts saving `state` at `step`; device buffers are copied before this returns."""
        if self._manager.latest_step() == step:
            return
        self._manager.save(step, args=ocp.args.StandardSave(global_replicated(state)),
                           force=True)

    def restore(self, template: Any, step: int | None = None) -> Any:
        """Restores the latest (or given) step into the structure, dtypes and shardings of
        `template`, which may be concrete arrays or `jax.ShapeDtypeStruct`s."""
        step = self._manager.latest_step() if step is None else step
        if step is None:
            raise FileNotFoundError(f"no checkpoint in {self.directory}")
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, global_replicated(template))
        restored = self._manager.restore(step, args=ocp.args.StandardRestore(abstract))
        return host_local(restored)

    def wait(self) -> None:
        self._manager.wait_until_finished()

    def close(self) -> None:
        self._manager.wait_until_finished()
        self._manager.close()

