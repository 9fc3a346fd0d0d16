"""Command-line entry points (absl flags + ml_collections config files).

Each `*_main` is a console script declared in pyproject.toml and wrapped by `scripts/`.
Bad input ends the process with one line naming the problem and exit status 2, before any
compilation.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from collections.abc import Callable

from absl import app, flags, logging
from ml_collections import config_flags

from gan_jax.registry import ConfigError, did_you_mean

EXIT_BAD_INPUT = 2


def _fail(message: str, status: int = EXIT_BAD_INPUT) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(status)


def _config_path(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
        if arg == "--config" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def unknown_override(argv: list[str]) -> str | None:
    """The first `--config.a.b=...` override naming a key the config file does not have."""
    path = _config_path(argv)
    if path is None:
        return None
    file_path, _, arg = path.partition(":")
    get_config = runpy.run_path(file_path)["get_config"]
    config = get_config(arg) if arg else get_config()
    for item in argv:
        if not item.startswith("--config."):
            continue
        key = item[len("--config."):].split("=", 1)[0]
        node = config
        for part in key.split("."):
            if not hasattr(node, "keys") or part not in node:
                known = list(node.keys()) if hasattr(node, "keys") else []
                return f"{key}{did_you_mean(part, known)}"
            node = node[part]
    return None


def _parse_flags(argv: list[str]) -> list[str]:
    config_path = _config_path(argv)
    if config_path is not None and not os.path.isfile(config_path.partition(":")[0]):
        _fail(f"--config: no such config file: {config_path}")
    try:
        return flags.FLAGS(argv)
    except flags.Error as e:
        _fail(str(e))
    except (AttributeError, KeyError) as e:
        culprit = unknown_override(argv)
        _fail(f"unknown config key in override --config.{culprit}" if culprit else repr(e))
    return []  # Unreachable.


def _run(main: Callable[[], None]) -> None:
    def wrapped(argv: list[str]) -> None:
        if not flags.FLAGS["verbosity"].present:
            logging.set_verbosity(logging.WARNING)  # Libraries' INFO logs drown the output.
        if len(argv) > 1:
            _fail(f"unexpected arguments: {' '.join(argv[1:])}")
        try:
            main()
        except ConfigError as e:
            _fail(str(e))
        except FileNotFoundError as e:
            _fail(str(e))

    app.run(wrapped, flags_parser=_parse_flags)


def train_main() -> None:
    """gan-train --config CONFIG --workdir DIR [--config.key=value ...]
    [--distributed | --coordinator_address H:P --num_processes N --process_id I]"""
    config_flag = config_flags.DEFINE_config_file("config", None, "Config file.",
                                                  lock_config=True)
    workdir = flags.DEFINE_string("workdir", None, "Run directory (resumed if it exists).")
    distributed = flags.DEFINE_bool(
        "distributed", False, "Join a multi-process run with jax.distributed.initialize(): on "
        "TPU pods, SLURM and Open MPI the processes are found automatically; elsewhere give "
        "--coordinator_address, --num_processes and --process_id.")
    coordinator = flags.DEFINE_string("coordinator_address", None, "host:port of process 0.")
    num_processes = flags.DEFINE_integer("num_processes", None, "Processes in the run.",
                                         lower_bound=1)
    process_id = flags.DEFINE_integer("process_id", None, "This process's index.",
                                      lower_bound=0)
    flags.mark_flags_as_required(["config", "workdir"])

    def main() -> None:
        explicit = (coordinator.value, num_processes.value, process_id.value)
        if distributed.value or any(v is not None for v in explicit):
            import jax

            # Before anything else touches JAX: the runtime must know every process first.
            jax.distributed.initialize(*explicit)
        from gan_jax.train import NonFiniteLossError, train_and_evaluate

        try:
            results = train_and_evaluate(config_flag.value, workdir.value)
        except NonFiniteLossError as e:
            _fail(str(e), status=1)
        print(json.dumps(results, indent=2))

    _run(main)


def evaluate_main() -> None:
    """gan-evaluate --workdir DIR [--num_samples N] [--metrics fd,kid] [--extractor_path P]
                    [--baseline_split train]
    gan-evaluate --config CONFIG --real_split train   (the real-data baseline alone)"""
    workdir = flags.DEFINE_string("workdir", None, "Run directory: evaluates its latest "
                                  "checkpoint and writes eval.json there.")
    config_flag = config_flags.DEFINE_config_file(
        "config", None, "With --real_split: the config whose data and eval sections to use.",
        lock_config=True)
    real_split = flags.DEFINE_string("real_split", None, "Evaluate real images of this split "
                                     "instead of a generator (needs --config).")
    baseline_split = flags.DEFINE_string("baseline_split", None, "With --workdir: also "
                                         "measure real images of this split (e.g. train), "
                                         "the baseline to read the generators against.")
    num_samples = flags.DEFINE_integer("num_samples", None, "Overrides eval.num_samples.",
                                       lower_bound=1)
    overrides = {
        key: flags.DEFINE_string(key, None, f"Overrides eval.{key}.")
        for key in ("metrics", "extractor", "extractor_path", "reference_split", "cache_dir")
    }

    def main() -> None:
        chosen = {k: v.value for k, v in overrides.items() if v.value is not None}
        if (workdir.value is None) == (real_split.value is None):
            _fail("give either --workdir (a run) or --config with --real_split (real data)")
        if workdir.value is not None:
            from gan_jax.evaluate import evaluate_workdir

            results = evaluate_workdir(workdir.value, num_samples.value, chosen,
                                       baseline_split.value)
        else:
            from gan_jax import config as config_lib
            from gan_jax.experiment import build_experiment

            if config_flag.value is None:
                _fail("--real_split needs --config")
            config = config_lib.with_seed(config_flag.value, 0)
            if num_samples.value is not None:
                config.eval.num_samples = num_samples.value
            for key, value in chosen.items():
                config.eval[key] = value
            results = build_experiment(config).evaluate_real(real_split.value)
        print(json.dumps(results, indent=2))

    _run(main)


def benchmark_main() -> None:
    """gan-benchmark --config CONFIG [--calls N] [--repeats R]"""
    config_flag = config_flags.DEFINE_config_file("config", None, "Config file.",
                                                  lock_config=True)
    calls = flags.DEFINE_integer("calls", 10, "Compiled calls per timed repeat.", lower_bound=1)
    repeats = flags.DEFINE_integer("repeats", 5, "Timed repeats (the median is reported).",
                                   lower_bound=1)
    flags.mark_flags_as_required(["config"])

    def main() -> None:
        from gan_jax.benchmark import benchmark

        print(json.dumps(benchmark(config_flag.value, calls.value, repeats.value), indent=2))

    _run(main)


def sample_main() -> None:
    """gan-sample --workdir DIR --num N --out FILE.png|.npz [--mode random|interpolate|traverse]"""
    workdir = flags.DEFINE_string("workdir", None, "Run directory (its latest checkpoint).")
    num = flags.DEFINE_integer("num", 64, "Samples (random), rows (interpolate) or base "
                               "latents (traverse).", lower_bound=1)
    out = flags.DEFINE_string("out", None, "Output: a .png grid or an .npz of samples+latents.")
    generator = flags.DEFINE_enum("generator", "ema", ["ema", "raw"], "Which generator.")
    mode = flags.DEFINE_enum("mode", "random", ["random", "interpolate", "traverse"],
                             "What to draw.")
    seed = flags.DEFINE_integer("seed", 0, "Seed of the latents drawn for the picture.")
    steps = flags.DEFINE_integer("steps", 8, "Columns of interpolation or traversal rows.",
                                 lower_bound=2)
    method = flags.DEFINE_enum("interpolation", "slerp", ["slerp", "linear"],
                               "Interpolation path.")
    dims = flags.DEFINE_list("dims", ["0", "1", "2", "3"], "Latent dimensions to traverse.")
    span = flags.DEFINE_float("span", 3.0, "Traversal range: [-span, span].")
    flags.mark_flags_as_required(["workdir", "out"])

    def main() -> None:
        from gan_jax.sample import load_run, make_latents, write_samples

        try:
            traverse_dims = tuple(int(d) for d in dims.value)
        except ValueError:
            _fail(f"--dims: expected integers, got {','.join(dims.value)}")
        if not out.value.endswith((".png", ".npz")):
            _fail(f"--out: {out.value!r} must end in .png or .npz")
        experiment, state = load_run(workdir.value)
        try:
            z, columns = make_latents(experiment, mode.value, num.value, seed.value,
                                      steps.value, method.value, traverse_dims, span.value)
            result = write_samples(experiment, state, out.value, z, columns, generator.value)
        except ValueError as e:
            _fail(str(e))
        print(json.dumps(result, indent=2))

    _run(main)


def train_classifier_main() -> None:
    """gan-train-classifier --config configs/classifier_mnist.py --workdir DIR"""
    config_flag = config_flags.DEFINE_config_file("config", None, "Classifier config file.",
                                                  lock_config=True)
    workdir = flags.DEFINE_string("workdir", None, "Classifier directory (resumed if it exists).")
    flags.mark_flags_as_required(["config", "workdir"])

    def main() -> None:
        from gan_jax.train_classifier import train_classifier

        print(json.dumps(train_classifier(config_flag.value, workdir.value), indent=2))

    _run(main)


def sweep_main() -> None:
    """gan-sweep --sweep experiments/STUDY/sweep.py --workdir DIR [--config CONFIG]
    [--task I | --parallel N | --list]"""
    sweep_file = flags.DEFINE_string("sweep", None, "Sweep file defining get_sweep().")
    workdir = flags.DEFINE_string("workdir", None, "Sweep directory: one subdirectory a trial.")
    config = flags.DEFINE_string("config", None, "Base config file (path[:arg]); replaces the "
                                 "one the sweep file names.")
    task = flags.DEFINE_integer("task", None, "Run trial I alone, in this process (e.g. "
                                "--task=$SLURM_ARRAY_TASK_ID).", lower_bound=0)
    parallel = flags.DEFINE_integer("parallel", 1, "Run every unfinished trial, N worker "
                                    "processes at a time.", lower_bound=1)
    list_only = flags.DEFINE_bool("list", False, "Print the trials and their states; run none.")
    flags.mark_flags_as_required(["sweep", "workdir"])

    def main() -> None:
        from gan_jax import sweep as sweep_lib

        sweep = sweep_lib.Sweep(sweep_file.value, config.value)
        if list_only.value:
            for index, name in enumerate(sweep.names):
                record = sweep_lib.read_trial(sweep.trial_dir(workdir.value, index)) or {}
                print(f"{index}\t{record.get('status', 'pending')}\t{name}")
            return
        if task.value is not None:
            sweep.check_index(task.value)
            status = sweep_lib.run_trial(sweep, workdir.value, task.value)
            print(json.dumps({"task": task.value, "name": sweep.names[task.value],
                              "status": status}))
            if status == "failed":
                record = sweep_lib.read_trial(sweep.trial_dir(workdir.value, task.value))
                _fail(f"trial {task.value} failed: {record['error']}", status=1)
            if status == "interrupted":
                _fail(f"trial {task.value} interrupted; run it again to resume", status=1)
            return
        statuses = sweep_lib.run_parallel(sweep, workdir.value, parallel.value, config.value,
                                          log=lambda line: print(line, file=sys.stderr))
        print(json.dumps(statuses, indent=2))
        bad = [name for name, status in statuses.items() if status not in ("done", "skipped")]
        if bad:
            _fail(f"{len(bad)} of {len(statuses)} trials did not finish: {', '.join(bad)}",
                  status=1)

    _run(main)


def report_main() -> None:
    """gan-report DIR [--metrics modes,high_quality] [--percent high_quality] [--ignore KEYS]
    [--csv F] [--markdown F]"""
    metrics = flags.DEFINE_list("metrics", None, "Metrics to show (e.g. modes or ema/modes); "
                                "all by default.")
    percent = flags.DEFINE_list("percent", [], "Metrics to show as percentages.")
    ignore = flags.DEFINE_list("ignore", [], "Config keys that differ between runs but must "
                               "not make rows.")
    csv_path = flags.DEFINE_string("csv", None, "Also write the table as CSV here.")
    markdown_path = flags.DEFINE_string("markdown", None, "Also write the markdown here.")

    def main(root: str) -> None:
        from gan_jax.report import report

        markdown, table = report(root, metrics.value, tuple(percent.value),
                                 tuple(ignore.value))
        for path, text in ((csv_path.value, table), (markdown_path.value, markdown)):
            if path:
                with open(path, "w") as f:
                    f.write(text)
        print(markdown, end="")

    def wrapped(argv: list[str]) -> None:
        if len(argv) != 2:
            _fail("usage: gan-report DIR [--metrics ...] [--csv FILE] [--markdown FILE]")
        try:
            main(argv[1])
        except FileNotFoundError as e:
            _fail(str(e))

    app.run(wrapped, flags_parser=_parse_flags)


def reproduce_main() -> None:
    """gan-reproduce RUN_DIR --workdir NEW [--rtol R --atol A]"""
    workdir = flags.DEFINE_string("workdir", None, "Where to re-run (a new directory).")
    rtol = flags.DEFINE_float("rtol", None, "Relative tolerance on eval.json numbers across "
                              "platforms (default 0.05).", lower_bound=0.0)
    atol = flags.DEFINE_float("atol", None, "Absolute tolerance on eval.json numbers across "
                              "platforms (default 0.02).", lower_bound=0.0)
    flags.mark_flags_as_required(["workdir"])

    def wrapped(argv: list[str]) -> None:
        from gan_jax import reproduce as reproduce_lib

        if len(argv) != 2:
            _fail("usage: gan-reproduce RUN_DIR --workdir NEW")
        tolerances = {k: v.value for k, v in (("rtol", rtol), ("atol", atol))
                      if v.value is not None}
        try:
            verdict = reproduce_lib.reproduce(argv[1], workdir.value, **tolerances)
        except (ConfigError, FileNotFoundError) as e:
            _fail(str(e))
        print(json.dumps(verdict, indent=2))
        if not verdict["match"]:
            _fail(f"the reproduction does not match ({verdict['criterion']}); see "
                  f"{os.path.join(workdir.value, 'reproduce.json')}", status=1)

    app.run(wrapped, flags_parser=_parse_flags)
