"""The training loop: wires config, experiment, step, checkpoints, logs and evaluation.

Everything a run writes goes into its workdir:

    config.json     the resolved config, seed included
    environment.json  backend, device kind and count, JAX version of each launch
    metrics.jsonl   one JSON object per logging step
    tensorboard/    TensorBoard events with the same scalars, and the sample figures
    samples/        PNGs of raw and EMA samples: scatter plots over the real data for 2D
                    mixtures, grids from fixed latents for images
    checkpoints/    Orbax checkpoints of the whole train state
    eval.json       the final evaluation

Running again on the same workdir resumes from the latest checkpoint and ends bit-identical
to an uninterrupted run: the step's keys depend only on (seed, step), and steps are grouped
into compiled calls at the same boundaries whatever step a run starts from.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from gan_jax import config as config_lib
from gan_jax.eval.mixtures import high_quality_counts
from gan_jax.runs import evaluation, finetune, grids, plots, rundir
from gan_jax.runs.checkpoint import Checkpointer
from gan_jax.runs.compilation_cache import use_compilation_cache
from gan_jax.runs.console import is_main_process, say
from gan_jax.runs.writers import MetricWriter, NullWriter, write_json_atomic
from gan_jax.training import parallel
from gan_jax.training import replicas as replicas_lib
from gan_jax.training.experiment import PLOT_STREAM, Experiment
from gan_jax.training.objective import PENALTIES

R1_WEIGHT = next(row.weight_key for row in PENALTIES if row.name == "r1")

NUM_PLOT_SAMPLES = 2_500
NUM_GRID_SAMPLES = 64
MAX_GRID_CLASSES = 16
NUM_TRIPLETS = 16  # Held-out pairs in a translation run's input | output | target grids.


class NonFiniteLossError(RuntimeError):
    """A loss or gradient norm became NaN or infinite."""


def next_boundary(step: int, train_cfg: Any) -> int:
    """The next step at which the loop returns to Python: a multiple of `steps_per_call` or of
    any logging, sampling, checkpointing or evaluation interval, or the end."""
    intervals = [train_cfg.steps_per_call, train_cfg.log_every, train_cfg.checkpoint_every]
    intervals += [i for i in (train_cfg.sample_every, train_cfg.eval_every) if i]
    candidates = [(step // i + 1) * i for i in intervals]
    return min(min(candidates), train_cfg.num_steps)


def _due(step: int, every: int, last: int) -> bool:
    return step == last or (every > 0 and step % every == 0)


class StopRequest:
    """Set by the first SIGTERM or Ctrl-C, which asks the loop to stop at its next step
    boundary; `catch()` takes both signals, `release()` hands them back."""

    def __init__(self) -> None:
        self.stop = False
        self._previous: dict[int, Any] = {}

    def catch(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        self.stop = True  # Only set a flag: the loop saves and reports.
        signal.signal(signum, self._previous[signum])  # A second signal acts as usual.

    def release(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)


@contextlib.contextmanager
def stop_on_signal() -> Iterator[StopRequest]:
    """Catches SIGTERM and Ctrl-C as a `StopRequest` for the duration of the block.

    Installed before a run builds anything: Python raises KeyboardInterrupt wherever it happens
    to be, and one raised inside a garbage-collection callback (JAX runs one) is printed and
    lost, so a Ctrl-C while compiling could let the run train to the end.
    """
    request = StopRequest()
    request.catch()
    try:
        yield request
    finally:
        request.release()


def save_samples(experiment: Experiment, state: Any, workdir: str,
                 writer: MetricWriter) -> list[str]:
    """Samples of the raw and EMA generators from latents fixed by the seed, so pictures are
    comparable across steps: scatter plots over the real mixture for points (coloured by the
    mode asked for, when conditional), grids for images (one row per class, for the first
    MAX_GRID_CLASSES classes, when conditional), input | output | target grids of held-out
    pairs for translation. Generators run in eval mode (BatchNorm uses
    its running statistics, or the EMA generator's own with `eval.standing_stats`)."""
    key = experiment.stream_key(PLOT_STREAM)
    step = int(state.step)
    os.makedirs(os.path.join(workdir, "samples"), exist_ok=True)
    stem = os.path.join(workdir, "samples", f"step_{step:08d}")
    generators = experiment.generators(state)
    if experiment.translation:
        inputs, targets = evaluation.held_out_pairs(experiment, NUM_TRIPLETS)
        paths = []
        for name, (params, g_state) in generators.items():
            outputs = experiment.translate(params, g_state, inputs,
                                           jax.random.fold_in(key, 0))
            grid = grids.triplet_grid(inputs, outputs, targets)
            writer.write_image(step, f"samples/{name}", grid)
            paths.append(f"{stem}_{name}.png")
            grids.save_png(grid, paths[-1])
        return paths
    if experiment.dataset.kind == "images":
        z, labels, columns = experiment.latents(jax.random.fold_in(key, 0),
                                                NUM_GRID_SAMPLES), None, None
        if experiment.num_classes:
            columns = 8
            z, labels = experiment.class_grid(jax.random.fold_in(key, 0), columns,
                                              np.arange(min(experiment.num_classes,
                                                            MAX_GRID_CLASSES)))
        paths = []
        for name, (params, g_state) in generators.items():
            grid = grids.make_grid(experiment.generate(params, g_state, z, labels),
                                   columns)
            writer.write_image(step, f"samples/{name}", grid)
            paths.append(f"{stem}_{name}.png")
            grids.save_png(grid, paths[-1])
        return paths
    z = experiment.latents(jax.random.fold_in(key, 0), NUM_PLOT_SAMPLES)
    labels = experiment.balanced_labels(NUM_PLOT_SAMPLES)
    real = np.asarray(experiment.dataset.draw(jax.random.fold_in(key, 1), NUM_PLOT_SAMPLES))
    fakes = {f"{name} generator": experiment.generate(params, g_state, z, labels)
             for name, (params, g_state) in generators.items()}
    dataset = experiment.dataset
    counts = {name: high_quality_counts(fake, dataset.centres, dataset.std)
              for name, fake in fakes.items()}
    fig = plots.scatter_figure(real, fakes, dataset.centres,
                               f"{experiment.config.data.name}, step {step}", labels, counts)
    writer.write_figure(step, "samples", fig)
    plots.save_figure(fig, f"{stem}.png")
    return [f"{stem}.png"]


def flatten_eval(results: dict[str, Any]) -> dict[str, Any]:
    return {f"eval/{gen}/{k}": v for gen in ("raw", "ema") for k, v in results[gen].items()}


def summary_line(step: int, last: int, metrics: dict[str, Any], rate: float,
                 translation: bool = False) -> str:
    """One line per log interval: losses, D(x), D(G(z)) (D(G(a)) for a translation run, whose
    G reads an input image a) and speed (means over seeds)."""
    def mean(name: str) -> float:
        return float(np.mean(metrics[name]))

    l1 = f"  L1 {mean('g_l1'):.3f}" if "g_l1" in metrics else ""
    # Augmentation probabilities (ADA, APA) and the overfitting heuristic they follow.
    adaptive = "".join(f"  {name} {mean(key):.3f}" for name, key in (
        ("r_t", "d_real_sign"), ("ada_p", "ada_p"), ("apa_p", "apa_p")) if key in metrics)
    return (f"step {step:>{len(str(last))}}/{last}  d_loss {mean('d_loss'):.3f}  "
            f"g_loss {mean('g_loss'):.3f}{l1}  D(x) {mean('d_real'):.3f}  "
            f"D(G({'a' if translation else 'z'})) {mean('d_fake'):.3f}{adaptive}  "
            f"{rate:,.1f} steps/s")


def train_and_evaluate(config: config_lib.ConfigDict, workdir: str) -> dict[str, Any]:
    """Trains (or resumes) the run in `workdir` and returns its final evaluation.

    A SIGTERM or Ctrl-C stops it at the next step boundary with a checkpoint and returns
    {"step", "stopped": True}; one before the first step raises KeyboardInterrupt.
    """
    with stop_on_signal() as request:
        return _train_and_evaluate(config, workdir, request)


def _train_and_evaluate(config: config_lib.ConfigDict, workdir: str,
                        request: StopRequest) -> dict[str, Any]:
    started = time.perf_counter()
    config = rundir.prepare(config, workdir)  # Validated here, once.
    use_compilation_cache(config.train.compilation_cache)  # Before anything compiles.
    replicas = replicas_lib.build_replicas(config)  # One experiment per vectorised replica.
    rundir.record(config, workdir)  # Only once every name in the config resolved.
    experiment = replicas[0]
    vectorised = len(replicas) > 1
    run_dirs = rundir.replica_dirs(config, workdir)
    train_cfg = config.train
    say(f"gan_jax: run in {workdir} with seed {config.seed}"
        + (f" ({len(replicas)} replicas, vectorised: "
           f"{', '.join(os.path.basename(d) for d in run_dirs[:4])}"
           f"{', ...' if len(run_dirs) > 4 else ''})" if vectorised else ""))
    if experiment.skipped_metrics:
        also = " (and class_accuracy, intra_fd)" if experiment.num_classes else ""
        say(f"gan_jax: eval.metrics {config.eval.metrics}{also} will be skipped: "
            f"{experiment.skipped_metrics}")

    checkpointer = Checkpointer(rundir.checkpoint_dir(workdir), train_cfg.keep_checkpoints)
    if checkpointer.latest_step() is not None:
        state = checkpointer.restore(replicas_lib.state_shapes(replicas))
    else:
        state = replicas_lib.init_states(replicas)
        if train_cfg.init_from:  # Fine-tuning: another run's weights.
            state = finetune.initial_weights(train_cfg.init_from, state,
                                             train_cfg.init_optimizer, len(replicas))
            say(f"gan_jax: starting from the weights of {train_cfg.init_from}"
                + (" and its optimizer states" if train_cfg.init_optimizer else ""))
    step = int(state.step.reshape(-1)[0])  # Every seed is at the same step.
    if 0 < step < train_cfg.num_steps:  # A finished run was said to be so by `prepare`.
        say(f"gan_jax: resumed from step {step}")
    if experiment.plan.mode == "replicas":
        say(f"gan_jax: {len(replicas)} replicas spread over {experiment.plan.replica_devices} "
            f"devices, {len(replicas) // experiment.plan.replica_devices} on each")
    if experiment.plan.mode in ("pmap", "mesh"):
        sharded = " and the state" if experiment.plan.shard_params else ""
        say(f"gan_jax: {experiment.plan.mode} over {experiment.plan.num_replicas} devices, "
            f"{train_cfg.batch_size // experiment.plan.num_replicas} examples each"
            + (f" (the batch{sharded} sharded)" if experiment.plan.mode == "mesh" else ""))
    feeder = None
    if experiment.streamed:  # Real batches from the host, the next call's during this one.
        n_disc = train_cfg.n_disc
        feeder = experiment.batch_feeder(step * n_disc)
        first_chunk = max(1, next_boundary(step, train_cfg) - step)  # 1: a finished run.
        data, data_axes = feeder.take(n_disc * first_chunk), None
        say(f"gan_jax: streaming real batches from {experiment.dataset.description}")
    else:
        data, data_axes = replicas_lib.device_data(replicas)
    multi_step, state, data, host_view = parallel.compile_run(
        replicas_lib.run_step(replicas, data_axes), experiment.plan, state, data)

    def replica_view(tree, k: int):
        """Seed k's part of a (host-view) state or metrics."""
        return replicas_lib.unstack(tree, k) if vectorised else tree

    main = is_main_process()
    if main and vectorised:
        for replica, run_dir in zip(replicas, run_dirs, strict=True):
            os.makedirs(run_dir, exist_ok=True)
            write_json_atomic(os.path.join(run_dir, "config.json"),
                              json.loads(config_lib.to_json(replica.config)))
    writers = [MetricWriter(d, start_step=step) if main else NullWriter() for d in run_dirs]
    all_finite = jnp.ones((len(replicas),) if vectorised else (), jnp.float32)
    last_good_step = step if checkpointer.latest_step() is not None else None
    window_start, window_time = step, time.perf_counter()
    last = train_cfg.num_steps
    results = None  # The latest evaluations (one per seed), reused if of the final step.

    def check_finite(upto: int) -> None:
        finite = np.asarray(all_finite).reshape(-1)
        if not finite.all():
            bad = [os.path.basename(d) for d, ok in zip(run_dirs, finite, strict=True) if not ok]
            which = f" (replica {', '.join(bad)})" if vectorised else ""
            if last_good_step is None:
                saved = ("no checkpoint was saved, so this workdir starts afresh: run again in "
                         "it with lower learning rates (e.g. --config.optim.d.lr=...)")
            else:
                saved = (f"the last checkpoint is step {last_good_step}; to restart from "
                         f"scratch in this workdir with lower learning rates, add --overwrite "
                         f"(e.g. --overwrite --config.optim.d.lr=...)")
            raise NonFiniteLossError(
                f"a loss or gradient norm became NaN or infinite before step {upto}{which}; "
                f"{saved}, or add a gradient penalty (--config.loss.{R1_WEIGHT}=...)")

    def evaluate_all(state) -> list[dict[str, Any]]:
        return [evaluation.evaluate(r, replica_view(state, k)) for k, r in enumerate(replicas)]

    def sample_all(state) -> None:
        for k, (replica, run_dir) in enumerate(zip(replicas, run_dirs, strict=True)):
            save_samples(replica, replica_view(state, k), run_dir, writers[k])

    try:
        if request.stop:  # Asked to stop while building or compiling: nothing new to save.
            raise KeyboardInterrupt
        with tqdm(
            total=train_cfg.num_steps, initial=step, desc="train", unit="step",
            # None: shown on a terminal only, so logs (e.g. a sweep's log.txt) stay readable.
            disable=None if train_cfg.progress_bar and main else True, dynamic_ncols=True,
        ) as progress:
            while step < last and not request.stop:
                chunk_end = next_boundary(step, train_cfg)
                first_call = started is not None
                state, metrics = multi_step(state, data, chunk_end - step)
                if feeder is not None and chunk_end < last:
                    following = next_boundary(chunk_end, train_cfg) - chunk_end
                    data = parallel.place_data(experiment.plan,
                                               feeder.take(train_cfg.n_disc * following))
                metrics = host_view(metrics)  # Already averaged over devices.
                if first_call:  # Startup cost: reading data, initialising and compiling.
                    jax.block_until_ready(metrics)
                    seconds, started = time.perf_counter() - started, None
                    if main:
                        steps = (f"step ({chunk_end})" if chunk_end == step + 1
                                 else f"steps ({step + 1}-{chunk_end})")
                        say(f"gan_jax: first {steps} done {seconds:.1f} s after the run "
                            "started, compiling included")
                all_finite = all_finite * metrics["finite"]
                progress.update(chunk_end - step)
                step = chunk_end

                if _due(step, train_cfg.log_every, last):
                    check_finite(step)
                    now = time.perf_counter()
                    rate = (step - window_start) / (now - window_time)  # Steps of each seed.
                    window_start, window_time = step, now
                    host_metrics = jax.device_get(metrics)
                    for k, writer in enumerate(writers):
                        scalars = {name: float(value) for name, value
                                   in replica_view(host_metrics, k).items() if name != "finite"}
                        writer.write_scalars(step, {**scalars, "steps_per_sec": rate})
                    if main:
                        say(summary_line(step, last, host_metrics, rate,
                                         experiment.translation))
                sample_due = train_cfg.sample_every and _due(step, train_cfg.sample_every, last)
                eval_due = train_cfg.eval_every and _due(step, train_cfg.eval_every, last)
                if sample_due or eval_due:
                    # On every process: gathering a sharded state is a collective.
                    viewed = host_view(state)
                    if main and sample_due:
                        sample_all(viewed)
                    if main and eval_due:
                        results = evaluate_all(viewed)
                        for writer, result in zip(writers, results, strict=True):
                            writer.write_scalars(step, flatten_eval(result))
                if _due(step, train_cfg.checkpoint_every, last) or request.stop:
                    check_finite(step)
                    checkpointer.save(step, host_view(state))
                    last_good_step = step
        if request.stop:
            return {"step": step, "stopped": True}
        request.release()  # From here, a Ctrl-C interrupts the final evaluation at once.

        state = host_view(state)
        if not main:
            return {"step": step}
        if results is None or results[0]["step"] != step:
            results = evaluate_all(state)
        if not train_cfg.sample_every:
            sample_all(state)
        for run_dir, result in zip(run_dirs, results, strict=True):
            write_json_atomic(os.path.join(run_dir, "eval.json"), result)
        if not vectorised:
            return results[0]
        summary = {"step": step, "num_seeds": len(replicas), "num_replicas": len(replicas),
                   "replicas": {os.path.basename(d): result
                                for d, result in zip(run_dirs, results, strict=True)}}
        if not config.train.vectorise:  # Seeds alone: also by seed, as it always was.
            summary["seeds"] = {str(r.config.seed): result
                                for r, result in zip(replicas, results, strict=True)}
        write_json_atomic(os.path.join(workdir, "eval.json"), summary)
        return summary
    finally:
        checkpointer.close()
        for writer in writers:
            writer.close()
