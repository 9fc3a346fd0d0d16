"""Hyperparameter sweeps: trials defined in a small Python file, run one by one or in parallel.

A sweep file (`experiments/<study>/sweep.py`) defines `get_sweep()`, the list of trials, each a
dict of config overrides (dotted keys), usually built with `sweep`, `product` and `zipped`:

    CONFIG = "configs/mog.py"   # Or define get_config() here; --config overrides both.

    def get_sweep():
        return product(sweep("optim.d.lr", [1e-4, 3e-4]), sweep("seed", range(10)))

Every trial is checked before anything runs: an override naming an unknown key, a value of the
wrong type or out of range, or two trials with the same name fail the whole sweep.
Trial i trains in `<workdir>/<name>`, where the name spells its overrides, and records its state
in `trial.json` there ("running", "done", "failed" with the error, or "interrupted"). A finished
trial is skipped when the sweep runs again; an unfinished one resumes from its checkpoints.
"""

from __future__ import annotations

import itertools
import json
import os
import runpy
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Iterable, Sequence
from typing import Any

from ml_collections import ConfigDict

from gan_jax import config as config_lib
from gan_jax.config.naming import format_value, overrides_name
from gan_jax.config.registry import ConfigError
from gan_jax.training.checks import validate

Trial = dict[str, Any]
TRIAL_FILE = "trial.json"


def sweep(key: str, values: Iterable[Any]) -> list[Trial]:
    """One trial per value of the dotted config key `key`."""
    values = list(values)
    if not values:
        raise ValueError(f"sweep({key!r}): no values")
    return [{key: value} for value in values]


def product(*sweeps: Sequence[Trial]) -> list[Trial]:
    """Every combination of the given sweeps; the last one varies fastest."""
    trials = []
    for combination in itertools.product(*sweeps):
        trials.append(_merge(combination))
    return trials


def zipped(*sweeps: Sequence[Trial]) -> list[Trial]:
    """The i-th trials of the given sweeps merged, for sweeps of equal length."""
    lengths = {len(s) for s in sweeps}
    if len(lengths) > 1:
        raise ValueError(f"zipped: sweeps of different lengths {sorted(lengths)}")
    return [_merge(combination) for combination in zip(*sweeps, strict=True)]


def _merge(trials: Iterable[Trial]) -> Trial:
    merged: Trial = {}
    for trial in trials:
        for key, value in trial.items():
            if key in merged and merged[key] != value:
                raise ValueError(f"two sweeps set {key!r}: {merged[key]!r} and {value!r}")
            merged[key] = value
    return merged


def pack(trials: list[Trial]) -> list[Trial]:
    """The trials with each group that differs only in vectorisable scalars (and the seed)
    merged into one trial that trains the group as one program (`train.vectorise`), in the
    place of the group's first trial. A group packs when its values form a full product (as
    `product` makes them); any other trial stays as it is."""
    from gan_jax.training.vectorise import vectorisable_keys

    allowed = set(vectorisable_keys())

    def group_key(trial: Trial) -> tuple:
        return (tuple(trial), tuple((k, repr(v)) for k, v in trial.items() if k not in allowed))

    groups: dict[tuple, list[Trial]] = {}
    for trial in trials:
        groups.setdefault(group_key(trial), []).append(trial)
    packed, seen = [], set()
    for trial in trials:
        key = group_key(trial)
        if key in seen:
            continue
        seen.add(key)
        members = groups[key]
        varying = [k for k in trial
                   if k in allowed and len({repr(m[k]) for m in members}) > 1]
        tied: dict[tuple, list[str]] = {}  # Keys that always take the same values move as one.
        for k in varying:
            tied.setdefault(tuple(repr(m[k]) for m in members), []).append(k)
        moving = list(tied.values())
        values = [list(dict.fromkeys(m[keys[0]] for m in members)) for keys in moving]
        combinations = [tuple(m[keys[0]] for keys in moving) for m in members]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool)
                      for vs in values for v in vs)
        if len(members) == 1 or not numeric or combinations != list(itertools.product(*values)):
            packed.extend(members)
            continue
        spelled = " ".join(f"{'+'.join(keys)}={','.join(format_value(v) for v in vs)}"
                           for keys, vs in zip(moving, values, strict=True))
        packed.append({**{k: v for k, v in trial.items() if k not in varying},
                       "train.vectorise": spelled})
    return packed


def trial_name(overrides: Trial) -> str:
    """A trial's directory name: its overrides spelt out (`config.naming.overrides_name`)."""
    return overrides_name(overrides)


def check_names(config: ConfigDict) -> None:
    """Resolves the config's dataset, model, loss and optimizer names (builds, compiles
    nothing), so a misspelt trial fails before any trial runs."""
    from gan_jax.training.experiment import build_experiment

    build_experiment(config_lib.with_seed(config, 0))


class Sweep:
    """The trials of a sweep file over a base config, checked and named."""

    def __init__(self, sweep_file: str, config: str | None = None,
                 common: Trial | None = None, vectorise: bool = False):
        """`common`: overrides applied to the base config, under every trial's own;
        `vectorise`: trials that differ only in vectorisable scalars train as one program
        each (`pack`)."""
        if not os.path.isfile(sweep_file):
            raise ConfigError(f"--sweep: no such sweep file: {sweep_file}")
        self.path = sweep_file
        namespace = runpy.run_path(sweep_file)
        if "get_sweep" not in namespace:
            raise ConfigError(f"{sweep_file}: defines no get_sweep()")
        here = os.path.dirname(os.path.abspath(sweep_file))
        if config is not None:
            self.config_spec = config
            self.base = config_lib.load_config_file(config)
        elif "CONFIG" in namespace:
            self.config_spec = namespace["CONFIG"]
            self.base = config_lib.load_config_file(namespace["CONFIG"], "CONFIG",
                                                      relative_to=here)
        elif "get_config" in namespace:
            self.config_spec = sweep_file
            self.base = namespace["get_config"]()
        else:
            raise ConfigError(f"{sweep_file}: names no base config (CONFIG = 'path' or "
                              "get_config()); pass --config")
        if common:
            self.base = config_lib.apply_overrides(self.base, common, what="--config")
        self.trials: list[Trial] = list(namespace["get_sweep"]())
        if not self.trials:
            raise ConfigError(f"{sweep_file}: get_sweep() returned no trials")
        from gan_jax.training.vectorise import is_vectorised

        if vectorise and not is_vectorised(self.base) and all(isinstance(t, dict)
                                                                for t in self.trials):
            self.trials = pack(self.trials)
        self.names = [trial_name(t) for t in self.trials]
        self.configs = []
        for index, (name, overrides) in enumerate(zip(self.names, self.trials, strict=True)):
            if not isinstance(overrides, dict):
                raise ConfigError(f"trial {index}: expected a dict of overrides, got "
                                  f"{overrides!r}")
            config = config_lib.apply_overrides(self.base, overrides, "sweep override")
            try:
                validate(config)
                config = config_lib.absolute_paths(config)
                check_names(config)
            except ConfigError as e:
                raise ConfigError(f"trial {index} ({name}): {e}") from None
            self.configs.append(config)
        duplicates = sorted({n for n in self.names if self.names.count(n) > 1})
        if duplicates:
            raise ConfigError(f"{sweep_file}: several trials are named {duplicates[0]!r}; "
                              "every trial needs its own overrides")

    def __len__(self) -> int:
        return len(self.trials)

    def trial_dir(self, workdir: str, index: int) -> str:
        return os.path.join(workdir, self.names[index])

    def check_index(self, index: int) -> None:
        if not 0 <= index < len(self):
            raise ConfigError(f"--task: {index} is out of range; the sweep has {len(self)} "
                              f"trials (0..{len(self) - 1})")


def read_trial(trial_dir: str) -> dict[str, Any] | None:
    path = os.path.join(trial_dir, TRIAL_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def is_done(trial_dir: str) -> bool:
    record = read_trial(trial_dir)
    return (record is not None and record.get("status") == "done"
            and os.path.exists(os.path.join(trial_dir, "eval.json")))


def _record(trial_dir: str, sweep_: Sweep, index: int, status: str, **extra: Any) -> None:
    from gan_jax.runs.writers import write_json_atomic

    previous = read_trial(trial_dir) or {}
    record = {"index": index, "name": sweep_.names[index], "overrides": sweep_.trials[index],
              "sweep": os.path.abspath(sweep_.path), "config": sweep_.config_spec,
              "status": status, "attempts": previous.get("attempts", 0), **extra}
    if status == "running":
        record["attempts"] += 1
    write_json_atomic(os.path.join(trial_dir, TRIAL_FILE), record)


def run_trial(sweep_: Sweep, workdir: str, index: int) -> str:
    """Trains trial `index` in this process unless it is done; returns its final status.

    Errors are recorded in the trial's trial.json, not raised, so a caller can go on."""
    from gan_jax.runs.loop import train_and_evaluate

    sweep_.check_index(index)
    trial_dir = sweep_.trial_dir(workdir, index)
    if is_done(trial_dir):
        return "skipped"
    os.makedirs(trial_dir, exist_ok=True)
    _record(trial_dir, sweep_, index, "running", started=time.time())
    try:
        results = train_and_evaluate(sweep_.configs[index], trial_dir)
    except Exception as e:  # noqa: BLE001 - recorded, so the other trials go on.
        _record(trial_dir, sweep_, index, "failed", error=f"{type(e).__name__}: {e}",
                traceback=traceback.format_exc())
        return "failed"
    if results.get("stopped"):
        _record(trial_dir, sweep_, index, "interrupted", step=results["step"])
        return "interrupted"
    _record(trial_dir, sweep_, index, "done", finished=time.time())
    return "done"


def _worker_command(sweep_: Sweep, workdir: str, index: int, config: str | None,
                    extra_args: Sequence[str] = ()) -> list[str]:
    command = [sys.executable, "-c", "from gan_jax.cli import sweep_main; sweep_main()",
               f"--sweep={sweep_.path}", f"--workdir={workdir}", f"--task={index}"]
    if config is not None:
        command.append(f"--config={config}")
    return command + list(extra_args)


def run_parallel(sweep_: Sweep, workdir: str, num_workers: int, config: str | None = None,
                 log=print, extra_args: Sequence[str] = ()) -> dict[str, str]:
    """Runs every unfinished trial, `num_workers` at a time, each in its own process (so one
    trial's crash cannot take down another). Returns {trial name: final status}.

    SIGTERM or Ctrl-C stops launching trials and passes SIGTERM to the running ones, which
    save a checkpoint and exit; running the sweep again resumes them."""
    statuses: dict[str, str] = {}
    pending = []
    for index, name in enumerate(sweep_.names):
        if is_done(sweep_.trial_dir(workdir, index)):
            statuses[name] = "skipped"
        else:
            pending.append(index)
    log(f"sweep: {len(sweep_)} trials, {len(statuses)} done before, {len(pending)} to run, "
        f"{num_workers} at a time")
    env = dict(os.environ)
    if num_workers > 1:  # Accelerator memory is shared between the workers.
        env.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", f"{0.9 / num_workers:.3f}")
    running: dict[int, subprocess.Popen] = {}
    stop = {"requested": False}

    def request_stop(signum, frame):
        stop["requested"] = True
        for process in running.values():
            process.send_signal(signal.SIGTERM)

    handlers = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while (pending and not stop["requested"]) or running:
            while pending and len(running) < num_workers and not stop["requested"]:
                index = pending.pop(0)
                trial_dir = sweep_.trial_dir(workdir, index)
                os.makedirs(trial_dir, exist_ok=True)
                with open(os.path.join(trial_dir, "log.txt"), "a") as log_file:
                    running[index] = subprocess.Popen(
                        _worker_command(sweep_, workdir, index, config, extra_args),
                        stdout=log_file,
                        stderr=subprocess.STDOUT, env=env)
            for index, process in list(running.items()):
                if process.poll() is None:
                    continue
                del running[index]
                record = read_trial(sweep_.trial_dir(workdir, index)) or {}
                status = record.get("status", "failed")
                if status == "running":  # The worker died without a word.
                    status = "failed"
                    _record(sweep_.trial_dir(workdir, index), sweep_, index, "failed",
                            error=f"worker exited with status {process.returncode}")
                statuses[sweep_.names[index]] = status
                detail = f": {record['error']}" if status == "failed" and "error" in record \
                    else ""
                log(f"sweep: trial {index} {sweep_.names[index]} {status}{detail}")
            time.sleep(0.2)
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    for index in pending:
        statuses[sweep_.names[index]] = "not started"
    return statuses
