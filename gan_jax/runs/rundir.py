"""A run directory: preparing it for training, loading its config, restoring its state.

    DIR/config.json        the resolved config (seed included, paths absolute)
    DIR/checkpoints/<step> Orbax checkpoints of the whole train state
    DIR/<replica>/         one replica's config, logs, samples and eval.json in a vectorised
                           run: seed_<s>/, or key=value,...,seed=s/ for vectorised values

A directory whose config.json has no checkpoint beside it (a run that failed or was stopped
before its first checkpoint) holds nothing to resume: the next run there starts afresh with
its own config.
"""

from __future__ import annotations

import json
import os
from typing import Any

from gan_jax import config as config_lib
from gan_jax.config import ConfigError
from gan_jax.runs.checkpoint import Checkpointer, saved_steps
from gan_jax.runs.console import is_main_process, say
from gan_jax.training import replicas as replicas_lib
from gan_jax.training import vectorise
from gan_jax.training.checks import validate
from gan_jax.training.experiment import Experiment

CONFIG_FILE = "config.json"
CHECKPOINTS = "checkpoints"


def checkpoint_dir(workdir: str) -> str:
    return os.path.join(workdir, CHECKPOINTS)


def check_workdir(workdir: str, flag: str = "--workdir") -> None:
    """Raises ConfigError unless `workdir` is a directory or can become one."""
    if not workdir:
        raise ConfigError(f"{flag}: give a directory")
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise ConfigError(f"{flag}: {workdir} is a file, not a directory; choose another path")
    parent = os.path.dirname(os.path.abspath(workdir))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise ConfigError(f"{flag}: {parent} is a file, so {workdir} cannot be created")


def load_config(workdir: str) -> config_lib.ConfigDict:
    """The saved config of a run; keys added to gan_jax since it started take their defaults."""
    path = os.path.join(workdir, CONFIG_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not found: is {workdir!r} a gan_jax run directory?")
    with open(path) as f:
        saved = config_lib.from_json(f.read())
    return config_lib.with_defaults(saved, config_lib.base_config())


def prepare(config: config_lib.ConfigDict, workdir: str) -> config_lib.ConfigDict:
    """Validates `config`, makes its paths absolute and resolves its seed against the run
    already in `workdir`; writes nothing (see `record`). This is where a run's config is
    validated, once.

    A workdir with checkpoints must be resumed with the same config (up to the keys in
    `config.RESUMABLE_KEYS`), and its seed is reused when the new config sets none."""
    check_workdir(workdir)
    validate(config)
    config = config_lib.absolute_paths(config)
    path = os.path.join(workdir, CONFIG_FILE)
    saved = load_config(workdir) if os.path.exists(path) else None
    resumable = saved is not None and bool(saved_steps(checkpoint_dir(workdir)))
    resolved = config_lib.with_seed(config, saved.seed if saved is not None else None)
    import jax

    if jax.process_count() > 1:  # Every process must train with process 0's seed.
        import numpy as np
        from jax.experimental import multihost_utils

        resolved.seed = int(multihost_utils.broadcast_one_to_all(np.int64(resolved.seed)))
    if resumable:
        conflicts = config_lib.resume_conflicts(config_lib.absolute_paths(saved), resolved)
        if conflicts:
            raise ConfigError(
                f"{workdir} holds a run with a different config ({'; '.join(conflicts)}); "
                "use a new --workdir, or the saved config to resume: gan-train --workdir "
                f"{workdir}")
        old, new = saved.train.num_steps, resolved.train.num_steps
        reached = saved_steps(checkpoint_dir(workdir))[-1]
        if new < reached:
            raise ConfigError(
                f"train.num_steps: {new:,} is fewer than the {reached:,} steps the run in "
                f"{workdir} has trained; give at least {reached:,} (its config says {old:,}), "
                "or use a new --workdir for a shorter run")
        if new > old:
            say(f"gan_jax: extending the run in {workdir} from {old:,} to {new:,} steps"
                + _schedule_note(resolved, old))
        elif new == reached:
            say(f"gan_jax: the run in {workdir} is finished ({reached:,}/{new:,} steps); "
                "nothing to train, evaluating its final state")
    elif saved is not None and config_lib.resume_conflicts(saved, resolved):
        say(f"gan_jax: {workdir} holds no checkpoint; starting afresh with this config")
    return resolved


def _schedule_note(config: config_lib.ConfigDict, old_steps: int) -> str:
    """Why an extended run differs from a fresh run of its new length, if it does: schedules
    other than a constant one (after warm-up) span train.num_steps."""
    players = [p for p in ("g", "d") if config.optim[p].schedule != "constant"]
    if not players:
        return ""
    names = " and ".join(f"optim.{p}.schedule={config.optim[p].schedule!r}" for p in players)
    return (f"; {names} spans num_steps, so from here the learning rates follow the "
            f"{config.train.num_steps:,}-step schedule, and the result differs from a fresh "
            f"run of that length (it continues a {old_steps:,}-step one)")


def record(config: config_lib.ConfigDict, workdir: str) -> None:
    """Writes the resolved config and this launch's platform into `workdir` (process 0)."""
    os.makedirs(workdir, exist_ok=True)
    if is_main_process():
        from gan_jax.runs import environment
        from gan_jax.runs.writers import write_json_atomic

        write_json_atomic(os.path.join(workdir, CONFIG_FILE),
                          json.loads(config_lib.to_json(config)))
        environment.record(workdir)  # What a bit-exact reproduction needs to match.


def replica_dirs(config: config_lib.ConfigDict, workdir: str) -> list[str]:
    """Where each replica of a run logs: the workdir itself, or a directory per replica of a
    vectorised run: workdir/seed_<s>/ for seeds alone, workdir/<key=value,...,seed=s>/ for
    vectorised values (`training.vectorise.replica_names`)."""
    if not vectorise.is_vectorised(config):
        return [workdir]
    return [os.path.join(workdir, name) for name in vectorise.replica_names(config)]


def vectorised_parent(workdir: str) -> tuple[str, config_lib.ConfigDict, int] | None:
    """(parent dir, parent config, replica index) when `workdir` is one replica's directory
    of a vectorised run."""
    if os.path.isdir(checkpoint_dir(workdir)):
        return None
    parent = os.path.dirname(os.path.abspath(workdir))
    if not os.path.exists(os.path.join(parent, CONFIG_FILE)):
        return None
    parent_config = load_config(parent)
    if not vectorise.is_vectorised(parent_config):
        return None
    dirs = [os.path.basename(d) for d in replica_dirs(parent_config, parent)]
    name = os.path.basename(os.path.abspath(workdir))
    return (parent, parent_config, dirs.index(name)) if name in dirs else None


def restore(replicas: list[Experiment], workdir: str, step: int | None = None) -> Any:
    """The state saved in `workdir` for these replicas (stacked when vectorised): the given
    step, else the newest readable checkpoint."""
    directory = checkpoint_dir(workdir)
    if not saved_steps(directory):
        raise FileNotFoundError(f"no checkpoint in {directory}")
    checkpointer = Checkpointer(directory, max_to_keep=1_000_000)
    try:
        return checkpointer.restore(replicas_lib.state_shapes(replicas), step)
    finally:
        checkpointer.close()


def load_run(workdir: str, eval_overrides: dict[str, Any] | None = None,
             step: int | None = None) -> tuple[Experiment, Any]:
    """(experiment, saved state) of a run directory: a run, or one replica's directory of a
    vectorised run (its state is cut from the parent's checkpoint). The
    experiment is built once, with `eval_overrides` applied to `config.eval`."""
    config = load_config(workdir)
    if vectorise.is_vectorised(config):
        names = [os.path.basename(d) for d in replica_dirs(config, workdir)]
        raise ConfigError(f"{workdir} trained {len(names)} vectorised replicas; name one of "
                          f"its replica directories ({', '.join(names[:3])}"
                          f"{', ...' if len(names) > 3 else ''})")
    parent = vectorised_parent(workdir)
    run_dir, run_config = (parent[0], parent[1]) if parent else (workdir, config)
    for key, value in (eval_overrides or {}).items():
        if key not in run_config.eval:
            known = [f"eval.{k}" for k in run_config.eval]
            raise ConfigError(config_lib.unknown_key_message(f"eval.{key}", known))
        run_config.eval[key] = value
    validate(run_config)
    replicas = replicas_lib.build_replicas(run_config)
    state = restore(replicas, run_dir, step)
    if parent is None:
        return replicas[0], state
    return replicas[parent[2]], replicas_lib.unstack(state, parent[2])


def load_state(workdir: str, step: int | None = None) -> Any:
    """The train state saved in a run directory (stacked over seeds when vectorised)."""
    config = load_config(workdir)
    validate(config)
    return restore(replicas_lib.build_replicas(config), workdir, step)


RUN_FILES = (CONFIG_FILE, "environment.json", "metrics.jsonl", "eval.json", "reproduce.json")
RUN_DIRS = (CHECKPOINTS, "tensorboard", "samples", "unreadable_checkpoints")


def discard(workdir: str) -> None:
    """Deletes the run in `workdir` (what gan_jax wrote there), so a new one starts afresh;
    other files are left alone."""
    import shutil

    if not is_main_process():
        return
    for name in RUN_FILES:
        path = os.path.join(workdir, name)
        if os.path.isfile(path):
            os.remove(path)
    for name in RUN_DIRS:
        shutil.rmtree(os.path.join(workdir, name), ignore_errors=True)
    for name in os.listdir(workdir) if os.path.isdir(workdir) else []:
        if name.startswith("seed_") and os.path.isdir(os.path.join(workdir, name)):
            shutil.rmtree(os.path.join(workdir, name))
