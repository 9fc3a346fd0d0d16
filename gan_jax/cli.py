"""Command-line entry points (absl flags + ml_collections config files).

Each `*_main` is a console script declared in pyproject.toml and wrapped by `scripts/`. Flags are
parsed, and `--help` answered, before JAX or TensorFlow is imported. Every user mistake ends
with one line on stderr naming the culprit, and a non-zero exit status: 2 for bad input, 1 for a
failed run, 130 for an interrupt. `--debug` (or GAN_JAX_DEBUG=1) shows the traceback instead.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import sys
from collections.abc import Callable

from absl import app, flags, logging
from ml_collections import config_flags

from gan_jax.config import ConfigError, flatten, load_config_file, unknown_key_message
from gan_jax.runs import compilation_cache

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
DEBUG_ENV = "GAN_JAX_DEBUG"
DOCS = "docs/"
# Errors that mean the user asked for something impossible (exit 2, not 1).
BAD_INPUT_ERRORS = (ConfigError, FileNotFoundError, NotADirectoryError, IsADirectoryError,
                    PermissionError)
# Python loggers that warn about things a CPU user cannot change (no GPU found, ...).
QUIET_LOGGERS = ("jax._src.xla_bridge", "absl", "tensorflow", "orbax")


@dataclasses.dataclass(frozen=True)
class Usage:
    """What `--help` says about a command."""

    synopsis: str
    summary: str  # Two lines: what the command does.
    examples: tuple[str, ...]
    docs: str  # The page that explains it.
    positional: str = ""  # e.g. "DIR": one required positional argument.
    config_overrides: bool = False  # Takes --config.KEY=VALUE overrides.


class _Command:
    """The flags one command defines, its help, and the error handling around its main."""

    def __init__(self, name: str, usage: Usage):
        self.name, self.usage = name, usage
        self._before = set(flags.FLAGS)
        self.debug = flags.DEFINE_bool(
            "debug", os.environ.get(DEBUG_ENV, "") not in ("", "0"),
            f"Show the full traceback of an error (also: {DEBUG_ENV}=1).")

    def own_flags(self) -> list[str]:
        """This command's flags, in definition order, --debug last."""
        if not hasattr(self, "_own"):
            self._own = [n for n in flags.FLAGS if n not in self._before and n != "debug"]
        return [*self._own, "debug"]

    def help_text(self) -> str:
        u = self.usage
        lines = [f"usage: {self.name} {u.synopsis}", "", u.summary, "", "flags:"]
        for name in self.own_flags():
            flag = flags.FLAGS[name]
            default = flag.default
            if isinstance(default, list):
                default = ",".join(map(str, default))
            required = name in _REQUIRED
            note = " (required)" if required else (
                f" (default: {default!r})" if default not in (None, "", False) else "")
            lines.append(f"  --{name:<20} {' '.join(flag.help.split())}{note}")
            if name == "config" and u.config_overrides:
                lines.append(f"  --{'config.KEY=VALUE':<20} Override any field of the config, "
                             "e.g. --config.optim.d.lr=3e-4")
        lines.append(f"  --{'verbosity':<20} 1 shows the libraries' INFO logs (default: "
                     "warnings and errors only)")
        lines += ["", "examples:", *(f"  {example}" for example in u.examples), "",
                  f"More: {u.docs}; --helpfull lists every flag."]
        return "\n".join(lines)

    def parse(self, argv: list[str]) -> list[str]:
        if any(a in ("-h", "--help", "--helpshort", "-help") for a in argv[1:]):
            print(self.help_text())
            sys.exit(0)
        if "--helpfull" in argv[1:]:
            print(flags.FLAGS.get_help())
            sys.exit(0)
        debug = "--debug" in argv or self.debug.default
        try:
            if self.usage.config_overrides:
                _check_config_args(argv)
            return flags.FLAGS(argv)
        except ConfigError as e:
            _fail(str(e))
        except flags.Error as e:
            if debug:
                raise
            _fail(_flag_error(str(e)))
        return []  # Unreachable.

    def run(self, main: Callable[..., None], interrupted: Callable[[], str] | None = None
            ) -> None:
        self.own_flags()  # Before absl adds its own help flags.

        def wrapped(argv: list[str]) -> None:
            _quiet_libraries()
            compilation_cache.set_environment_defaults()  # Before JAX is imported.
            positional = argv[1:]
            wanted = 1 if self.usage.positional else 0
            if len(positional) != wanted:
                if positional:
                    _fail(f"unexpected argument{'s' if len(positional) > 1 else ''}: "
                          f"{' '.join(positional)}; see {self.name} --help")
                _fail(f"missing {self.usage.positional}; usage: {self.name} "
                      f"{self.usage.synopsis}")
            try:
                main(*positional)
            except KeyboardInterrupt:
                _fail(interrupted() if interrupted else "interrupted", EXIT_INTERRUPTED)
            except Exception as e:  # noqa: BLE001 - one line for users; --debug re-raises.
                if self.debug.value:
                    raise
                bad_input = isinstance(e, BAD_INPUT_ERRORS)
                if bad_input or type(e).__name__ == "NonFiniteLossError":  # Self-explaining.
                    message = _one_line(e)
                else:
                    message = (f"{type(e).__name__}: {_one_line(e)} (add --debug for the "
                               "traceback)")
                _fail(message, EXIT_BAD_INPUT if bad_input else EXIT_FAILED)

        app.run(wrapped, flags_parser=self.parse)


_REQUIRED: set[str] = set()


def _require(*names: str) -> None:
    """Flags that must be given; checked by `_missing` after parsing (absl's own check would
    print a multi-line message)."""
    _REQUIRED.update(names)


def _missing(name: str, command: str, synopsis: str) -> None:
    if flags.FLAGS[name].value in (None, ""):
        _fail(f"--{name} is required; usage: {command} {synopsis}")


def _fail(message: str, status: int = EXIT_BAD_INPUT) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(status)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


def _quiet_libraries() -> None:
    """Warnings and errors only, unless --verbosity was given."""
    if flags.FLAGS["verbosity"].present:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Before TensorFlow is imported.
    logging.set_verbosity(logging.WARNING)
    import logging as python_logging

    for name in QUIET_LOGGERS:
        python_logging.getLogger(name).setLevel(python_logging.ERROR)


def _flag_error(message: str) -> str:
    """absl's message about a flag value, as one line naming the flag."""
    match = re.match(r"flag (--[\w.]+)=(.*?): (.*)", message, re.S)
    if match:
        flag, value, reason = match.groups()
        return f"{flag}: cannot use {value!r} ({' '.join(reason.split())})"
    return " ".join(message.split()).replace("Unknown command line flag", "unknown flag")


def _config_spec(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
        if arg == "--config" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def _check_config_args(argv: list[str]) -> None:
    """Loads the config file once and checks every --config.KEY override names a real key,
    so mistakes get one line with the closest key's full path."""
    spec = _config_spec(argv)
    overrides = [a for a in argv if a.startswith("--config.")]
    if spec is None:
        if overrides:
            raise ConfigError(f"{overrides[0].split('=')[0]} needs --config FILE")
        return
    config = load_config_file(spec)
    known = list(flatten(config))
    for item in overrides:
        key = item[len("--config."):].split("=", 1)[0]
        if key not in known:
            raise ConfigError(unknown_key_message(key, known, "unknown config key"))


def parse_overrides(argv: list[str]) -> tuple[list[str], dict[str, object]]:
    """Splits `--config.KEY=VALUE` items off argv: (the rest, {KEY: value}), values read as
    Python literals where they parse (3e-4, 5, True, (64, 64)), else as strings."""
    rest, overrides = [], {}
    for item in argv:
        if not item.startswith("--config."):
            rest.append(item)
            continue
        key, sep, text = item[len("--config."):].partition("=")
        if not sep:
            raise ConfigError(f"--config.{key}: give a value, as --config.{key}=VALUE")
        lowered = {"true": "True", "false": "False", "none": "None"}.get(text.lower(), text)
        try:
            overrides[key] = ast.literal_eval(lowered)
        except (ValueError, SyntaxError):
            overrides[key] = text
    return rest, overrides


def _print_json(results: object) -> None:
    print(json.dumps(results, indent=2))


def train_main() -> None:
    command = _Command("gan-train", Usage(
        synopsis="--config CONFIG --workdir DIR [--config.KEY=VALUE ...]",
        summary="Trains a GAN described by a config file, or resumes the run in DIR, writing\n"
                "checkpoints, metrics, sample pictures and the final evaluation into DIR.",
        examples=("gan-train --config configs/mog.py --workdir workdirs/ring",
                  "gan-train --config configs/dcgan_mnist.py --workdir workdirs/mnist "
                  "--config.train.num_steps=2000",
                  "gan-train --workdir workdirs/ring   # resume with the saved config"),
        docs=f"{DOCS}training.md, {DOCS}configs.md", config_overrides=True))
    config_flag = config_flags.DEFINE_config_file(
        "config", None, "Config file, path[:arg]; optional when resuming DIR.",
        lock_config=True)
    workdir = flags.DEFINE_string("workdir", None, "Run directory (resumed if it holds a run).")
    overwrite = flags.DEFINE_bool("overwrite", False, "Delete the run already in DIR and "
                                  "start afresh.")
    distributed = flags.DEFINE_bool(
        "distributed", False, "Join a multi-process run (jax.distributed); found "
        "automatically on TPU pods, SLURM and Open MPI.")
    coordinator = flags.DEFINE_string("coordinator_address", None, "host:port of process 0, "
                                      "when processes are started by hand.")
    num_processes = flags.DEFINE_integer("num_processes", None, "Processes in the run.",
                                         lower_bound=1)
    process_id = flags.DEFINE_integer("process_id", None, "This process's index.",
                                      lower_bound=0)
    _require("workdir")
    resume_overrides = {}
    if _config_spec(sys.argv) is None:  # Resuming: overrides apply to the saved config.
        try:
            sys.argv, resume_overrides = parse_overrides(sys.argv)
        except ConfigError as e:
            _fail(str(e))

    def main() -> None:
        _missing("workdir", command.name, command.usage.synopsis)
        explicit = (coordinator.value, num_processes.value, process_id.value)
        if distributed.value or any(v is not None for v in explicit):
            import jax

            # Before anything else touches JAX: the runtime must know every process first.
            jax.distributed.initialize(*explicit)
        from gan_jax import config as config_lib
        from gan_jax.runs import rundir
        from gan_jax.runs.loop import train_and_evaluate

        rundir.check_workdir(workdir.value)
        if overwrite.value:
            rundir.discard(workdir.value)
        config = config_flag.value
        if config is None:
            if not os.path.exists(os.path.join(workdir.value, rundir.CONFIG_FILE)):
                _fail(f"--config is required: {workdir.value} holds no run to resume; usage: "
                      f"{command.name} {command.usage.synopsis}")
            config = config_lib.apply_overrides(rundir.load_config(workdir.value),
                                                resume_overrides, "--config")
        results = train_and_evaluate(config, workdir.value)
        if results.get("stopped"):
            _fail(f"interrupted; saved step {results['step']} in {workdir.value}. Run the same "
                  "command to resume.", EXIT_INTERRUPTED)
        _print_json(results)

    def interrupted() -> str:
        from gan_jax.runs.checkpoint import saved_steps

        steps = saved_steps(os.path.join(workdir.value or "", "checkpoints"))
        if not steps:
            return "interrupted before the first checkpoint; nothing was saved"
        return (f"interrupted; nothing after step {steps[-1]} was saved. Run the same command "
                "to resume from it.")

    command.run(main, interrupted)


def evaluate_main() -> None:
    command = _Command("gan-evaluate", Usage(
        synopsis="--workdir DIR [--metrics fd,kid] [--num_samples N] [--baseline_split train]\n"
                 "       gan-evaluate --config CONFIG --real_split train",
        summary="Evaluates the latest checkpoint of a run (raw and EMA generators) and writes\n"
                "DIR/eval.json; or measures real images of a split, the baseline to read them by.",
        examples=("gan-evaluate --workdir workdirs/ring",
                  "gan-evaluate --workdir workdirs/mnist --metrics fd,kid,is "
                  "--baseline_split train",
                  "gan-evaluate --config configs/dcgan_mnist.py --real_split train"),
        docs=f"{DOCS}evaluation.md", config_overrides=True))
    workdir = flags.DEFINE_string("workdir", None, "Run directory: evaluates its latest "
                                  "checkpoint and writes eval.json there.")
    config_flag = config_flags.DEFINE_config_file(
        "config", None, "With --real_split: the config whose data and eval sections to use.",
        lock_config=True)
    real_split = flags.DEFINE_string("real_split", None, "Evaluate real images of this split "
                                     "instead of a generator (needs --config).")
    baseline_split = flags.DEFINE_string("baseline_split", None, "With --workdir: also "
                                         "measure real images of this split (e.g. train).")
    num_samples = flags.DEFINE_integer("num_samples", None, "Overrides eval.num_samples.",
                                       lower_bound=1)
    overrides = {
        key: flags.DEFINE_string(key, None, f"Overrides eval.{key}.")
        for key in ("metrics", "extractor", "extractor_path", "reference_split", "cache_dir")
    }

    def main() -> None:
        chosen = {k: v.value for k, v in overrides.items() if v.value is not None}
        if (workdir.value is None) == (real_split.value is None):
            _fail("give either --workdir DIR (a run) or --config CONFIG with --real_split "
                  "SPLIT (real data)")
        if "extractor_path" in chosen:
            chosen["extractor_path"] = os.path.abspath(chosen["extractor_path"])
            if not os.path.exists(chosen["extractor_path"]):
                _fail(f"--extractor_path: {chosen['extractor_path']} not found")
        if workdir.value is not None:
            from gan_jax.runs.evaluation import evaluate_workdir

            results = evaluate_workdir(workdir.value, num_samples.value, chosen,
                                       baseline_split.value)
            skipped = results.get("skipped")
            if skipped:
                print(f"gan_jax: skipped eval.metrics {skipped['metrics']}: "
                      f"{skipped['reason']}", file=sys.stderr)
        else:
            from gan_jax import config as config_lib
            from gan_jax.runs.evaluation import evaluate_real
            from gan_jax.training.checks import validate
            from gan_jax.training.experiment import build_experiment

            if config_flag.value is None:
                _fail("--real_split needs --config CONFIG")
            config = config_lib.with_seed(config_flag.value, 0)
            if num_samples.value is not None:
                config.eval.num_samples = num_samples.value
            for key, value in chosen.items():
                config.eval[key] = value
            validate(config)
            results = evaluate_real(build_experiment(config_lib.absolute_paths(config)),
                                    real_split.value)
        _print_json(results)

    command.run(main)


def benchmark_main() -> None:
    command = _Command("gan-benchmark", Usage(
        synopsis="--config CONFIG [--calls N] [--repeats R] [--per_layer] [--input_images N] "
                 "[--config.KEY=VALUE ...]",
        summary="Times a config's compiled train step on random data: steps/s, FLOPs, share of\n"
                "the matmul rate; each layer (--per_layer); input images/s (--input_images).",
        examples=("gan-benchmark --config configs/mog.py",
                  "gan-benchmark --config configs/dcgan64.py --calls 3",
                  "gan-benchmark --config configs/dcgan64.py --calls 3 --per_layer",
                  "gan-benchmark --config configs/dcgan64.py --calls 3 --input_images 20000"),
        docs=f"{DOCS}benchmarks.md", config_overrides=True))
    config_flag = config_flags.DEFINE_config_file("config", None, "Config file, path[:arg].",
                                                  lock_config=True)
    calls = flags.DEFINE_integer("calls", 10, "Compiled calls per timed repeat.", lower_bound=1)
    repeats = flags.DEFINE_integer("repeats", 5, "Timed repeats (the median is reported).",
                                   lower_bound=1)
    input_images = flags.DEFINE_integer(
        "input_images", 0, "Also time the streaming input pipeline on a folder of this many "
        "random JPEGs at the config's image size, written once into --input_dir (0: off).",
        lower_bound=0)
    input_dir = flags.DEFINE_string("input_dir", "", "Where --input_images writes its folder "
                                    "(default: a temporary directory, removed afterwards).")
    per_layer = flags.DEFINE_bool(
        "per_layer", False, "Also time each layer's forward and backward pass alone, its "
        "GFLOP/s, fraction of the matmul rate and share of the step (a table on stderr).")
    _require("config")

    def main() -> None:
        _missing("config", command.name, command.usage.synopsis)
        from gan_jax.commands.benchmark import benchmark

        results = benchmark(config_flag.value, calls.value, repeats.value)
        if input_images.value:
            import tempfile

            from gan_jax.commands import benchmark as benchmark_lib
            config, shape = config_flag.value, results["example_shape"]
            with tempfile.TemporaryDirectory() as scratch:
                folder = benchmark_lib.write_jpeg_folder(input_dir.value or scratch,
                                                         input_images.value, shape[0])
                results |= benchmark_lib.input_rate(folder, shape, config.train.batch_size)
            # Real images a step reads: n_disc batches.
            needed = (results["steps_per_sec_median"] * config.train.batch_size
                      * config.train.n_disc)
            results["train_real_images_per_sec"] = needed
            results["input_to_train_ratio"] = results["input_images_per_sec_median"] / needed
        if per_layer.value:
            from gan_jax.commands import layer_benchmark
            rows = layer_benchmark.per_layer(config_flag.value, results["step_time_median_s"],
                                             results["matmul_gflops"], repeats.value)
            results["layers"] = rows
            print(layer_benchmark.markdown_table(rows), file=sys.stderr)
        _print_json(results)

    command.run(main)


def sample_main() -> None:
    command = _Command("gan-sample", Usage(
        synopsis="--workdir DIR --out FILE.png|FILE.npz [--mode random|interpolate|traverse|"
                 "truncation|mixing|noise]",
        summary="Draws from a run's latest checkpoint: an image grid, a scatter plot over the\n"
                "true modes for 2D mixtures, latent interpolations and traversals, or an .npz.",
        examples=("gan-sample --workdir workdirs/mnist --out grid.png --num 64",
                  "gan-sample --workdir workdirs/mnist --out walk.png --mode interpolate "
                  "--num 8",
                  "gan-sample --workdir workdirs/ring --out ring.png --num 2500",
                  "gan-sample --workdir workdirs/cgan_mnist --out digits.png --per-class 8",
                  "gan-sample --workdir workdirs/cgan_mnist --out sevens.png --label 7",
                  "gan-sample --workdir workdirs/stylegan_fashion --out psi.png --mode "
                  "truncation --num 6",
                  "gan-sample --workdir workdirs/stylegan_fashion --out mix.png --mode mixing "
                  "--num 3 --steps 6"),
        docs=f"{DOCS}training.md#sampling"))
    workdir = flags.DEFINE_string("workdir", None, "Run directory (its latest checkpoint).")
    out = flags.DEFINE_string("out", None, "Output: a .png picture or an .npz of samples and "
                              "latents.")
    num = flags.DEFINE_integer("num", 64, "Samples (random), rows (interpolate) or base "
                               "latents (traverse).", lower_bound=1)
    generator = flags.DEFINE_enum("generator", "ema", ["ema", "raw"], "Which generator.")
    mode = flags.DEFINE_enum("mode", "random", ["random", "interpolate", "traverse",
                                                "truncation", "mixing", "noise"],
                             "What to draw (the last three: style-based generators).")
    seed = flags.DEFINE_integer("seed", 0, "Seed of the latents drawn for the picture.")
    steps = flags.DEFINE_integer("steps", 8, "Columns of interpolation or traversal rows.",
                                 lower_bound=2)
    method = flags.DEFINE_enum("interpolation", "slerp", ["slerp", "linear"],
                               "Interpolation path.")
    dims = flags.DEFINE_list("dims", ["0", "1", "2", "3"], "Latent dimensions to traverse.")
    span = flags.DEFINE_float("span", 3.0, "Traversal range: [-span, span].")
    label = flags.DEFINE_integer("label", None, "Class-conditional runs: draw every sample "
                                 "(every row) for this class.")
    per_class = flags.DEFINE_integer("per-class", None, "Class-conditional runs: a grid with "
                                     "one row per class and this many columns.", lower_bound=1)
    truncation = flags.DEFINE_float("truncation", 1.0, "Style-based runs: truncation psi of "
                                    "random samples, interpolations and style pictures.")
    psis = flags.DEFINE_list("psi", ["1", "0.75", "0.5", "0.25", "0", "-0.5"],
                             "Columns of the truncation grid (--mode truncation).")
    space = flags.DEFINE_enum("space", "z", ["z", "w"], "Interpolate in Z (the latent) or, "
                              "for style-based runs, linearly in W.")
    _require("workdir", "out")

    def main() -> None:
        _missing("workdir", command.name, command.usage.synopsis)
        _missing("out", command.name, command.usage.synopsis)
        try:
            traverse_dims = tuple(int(d) for d in dims.value)
        except ValueError:
            _fail(f"--dims: expected integers, got {','.join(dims.value)}")
        try:
            psi_values = tuple(float(v) for v in psis.value)
        except ValueError:
            _fail(f"--psi: expected numbers, got {','.join(psis.value)}")
        if not out.value.endswith((".png", ".npz")):
            _fail(f"--out: {out.value!r} must end in .png or .npz")
        from gan_jax.commands import sample
        experiment, state = sample.load_run(workdir.value)
        warning = sample.ema_warning(experiment, state, generator.value)
        if warning:
            print(warning, file=sys.stderr)
        sample.check_request(experiment, mode.value, out.value, traverse_dims, label.value,
                             per_class.value, truncation.value, space.value, psi_values)
        step = int(state.step)
        if mode.value in sample.STYLE_MODES or space.value == "w":
            images, columns = sample.style_picture(
                experiment, state, mode.value, num.value, seed.value, steps.value, psi_values,
                truncation.value, generator.value)
            _print_json(sample.write_picture(out.value, images, columns, step,
                                             generator.value))
            return
        z, labels, columns = sample.make_latents(
            experiment, mode.value, num.value, seed.value, steps.value, method.value,
            traverse_dims, span.value, label.value, per_class.value)
        keys = (sample.random_noise_keys(experiment, seed.value, z.shape[0])
                if mode.value == "random" else None)
        _print_json(sample.write_samples(experiment, state, out.value, z, columns,
                                         generator.value, labels, keys, truncation.value))

    command.run(main)


def translate_main() -> None:
    command = _Command("gan-translate", Usage(
        synopsis="--workdir DIR --input IMAGE|FOLDER --out FILE.png|FOLDER [--target PATH | "
                 "--aligned]",
        summary="Applies an image-to-image run's latest checkpoint to an image or a folder,\n"
                "resized as in training; writes outputs and input | output | target comparisons.",
        examples=("gan-translate --workdir workdirs/edges2fashion --input sketch.png "
                  "--out garment.png",
                  "gan-translate --workdir workdirs/facades --input facades/test --aligned "
                  "--out translated/",
                  "gan-translate --workdir workdirs/edges2fashion --input edges/ --target "
                  "photos/ --out translated/"),
        docs=f"{DOCS}translation.md#translating-images"))
    workdir = flags.DEFINE_string("workdir", None, "Run directory (its latest checkpoint).")
    input_path = flags.DEFINE_string("input", None, "An input image, or a folder of them.")
    out = flags.DEFINE_string("out", None, "Output: a .png for one image, else a folder.")
    target = flags.DEFINE_string("target", None, "Targets: an image, or a folder holding "
                                 "files of the inputs' names.")
    aligned = flags.DEFINE_boolean("aligned", False, "Inputs hold input and target side by "
                                   "side (pix2pix's aligned format), split in the run's "
                                   "direction.")
    generator = flags.DEFINE_enum("generator", "raw", ["raw", "ema"], "Which generator (raw: "
                                  "the trained weights, whose BatchNorm statistics these are).")
    seed = flags.DEFINE_integer("seed", 0, "Seed of the dropout G keeps on at sampling.")
    _require("workdir", "input", "out")

    def main() -> None:
        for name in ("workdir", "input", "out"):
            _missing(name, command.name, command.usage.synopsis)
        from gan_jax.commands.translate import check_output, load_run, translate_files

        check_output(input_path.value, out.value)
        experiment, state = load_run(workdir.value)
        _print_json(translate_files(experiment, state, input_path.value, out.value,
                                    target.value, aligned.value, generator.value, seed.value))

    command.run(main)


def train_classifier_main() -> None:
    command = _Command("gan-train-classifier", Usage(
        synopsis="--config CONFIG --workdir DIR [--config.KEY=VALUE ...]",
        summary="Trains the small CNN whose features and class probabilities the image metrics\n"
                "use on MNIST-like data, and exports it to DIR for --extractor_path.",
        examples=("gan-train-classifier --config configs/classifier.py "
                  "--workdir classifiers/mnist_cnn",),
        docs=f"{DOCS}evaluation.md", config_overrides=True))
    config_flag = config_flags.DEFINE_config_file("config", None, "Classifier config file.",
                                                  lock_config=True)
    workdir = flags.DEFINE_string("workdir", None, "Classifier directory (resumed if it "
                                  "exists).")
    _require("config", "workdir")

    def main() -> None:
        _missing("config", command.name, command.usage.synopsis)
        _missing("workdir", command.name, command.usage.synopsis)
        from gan_jax.commands.train_classifier import train_classifier

        _print_json(train_classifier(config_flag.value, workdir.value))

    command.run(main)


def sweep_main() -> None:
    command = _Command("gan-sweep", Usage(
        synopsis="--sweep SWEEP.py --workdir DIR [--config CONFIG] [--config.KEY=VALUE ...]\n"
                 "       [--task I | --parallel N | --list]",
        summary="Runs the trials of a sweep file (one config override set each), in this\n"
                "process or N worker processes; resumable, failures recorded per trial.",
        examples=("gan-sweep --sweep experiments/mog/sweep.py --workdir sweeps/ring --list",
                  "gan-sweep --sweep experiments/mog/sweep.py --workdir sweeps/ring "
                  "--parallel 2 --config.train.num_steps=1000",
                  "gan-sweep --sweep experiments/mog/sweep.py --workdir sweeps/ring "
                  "--task $SLURM_ARRAY_TASK_ID"),
        docs=f"{DOCS}sweeps.md"))
    sweep_file = flags.DEFINE_string("sweep", None, "Sweep file defining get_sweep().")
    workdir = flags.DEFINE_string("workdir", None, "Sweep directory: one subdirectory a trial.")
    config = flags.DEFINE_string("config", None, "Base config file (path[:arg]); replaces the "
                                 "one the sweep file names. --config.KEY=VALUE overrides apply "
                                 "to every trial.")
    task = flags.DEFINE_integer("task", None, "Run trial I alone, in this process (e.g. "
                                "--task=$SLURM_ARRAY_TASK_ID).", lower_bound=0)
    parallel = flags.DEFINE_integer("parallel", 1, "Run every unfinished trial, N worker "
                                    "processes at a time.", lower_bound=1)
    list_only = flags.DEFINE_bool("list", False, "Print the trials and their states; run none.")
    _require("sweep", "workdir")
    # --config.KEY=VALUE items apply to every trial; absl never sees them, and parallel
    # workers get them as given.
    common_args = [a for a in sys.argv[1:] if a.startswith("--config.")]
    try:
        sys.argv, common = parse_overrides(sys.argv)
    except ConfigError as e:
        _fail(str(e))

    def main() -> None:
        _missing("sweep", command.name, command.usage.synopsis)
        _missing("workdir", command.name, command.usage.synopsis)
        from gan_jax.commands import sweep as sweep_lib
        sweep = sweep_lib.Sweep(sweep_file.value, config.value, common)
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
                _fail(f"trial {task.value} failed: {record['error']}", EXIT_FAILED)
            if status == "interrupted":
                _fail(f"trial {task.value} interrupted; run it again to resume",
                      EXIT_INTERRUPTED)
            return
        statuses = sweep_lib.run_parallel(sweep, workdir.value, parallel.value, config.value,
                                          log=lambda line: print(line, file=sys.stderr),
                                          extra_args=common_args)
        _print_json(statuses)
        bad = [name for name, status in statuses.items() if status not in ("done", "skipped")]
        if bad:
            _fail(f"{len(bad)} of {len(statuses)} trials did not finish: {', '.join(bad)}",
                  EXIT_FAILED)

    command.run(main)


def report_main() -> None:
    command = _Command("gan-report", Usage(
        synopsis="DIR [--metrics modes,high_quality] [--percent high_quality] [--csv FILE]",
        summary="Tabulates every finished run under DIR: one row per setting (the config keys\n"
                "that differ), each cell the mean ± standard error over that row's seeds.",
        examples=("gan-report sweeps/ring --metrics modes,high_quality,reverse_kl "
                  "--percent high_quality",
                  "gan-report sweeps/ring --csv ring.csv --markdown ring.md",
                  "gan-report sweeps/long --by_step --metrics kl_modes_mnist_cnn_n26000"),
        docs=f"{DOCS}sweeps.md#reports", positional="DIR"))
    metrics = flags.DEFINE_list("metrics", None, "Metrics to show (e.g. modes or ema/modes); "
                                "all by default.")
    percent = flags.DEFINE_list("percent", [], "Metrics to show as percentages.")
    ignore = flags.DEFINE_list("ignore", [], "Config keys that differ between runs but must "
                               "not make rows.")
    by_step = flags.DEFINE_bool("by_step", False, "A row per evaluated step too: the "
                                "evaluations logged during training (train.eval_every) as "
                                "well as the final one.")
    csv_path = flags.DEFINE_string("csv", None, "Also write the table as CSV here.")
    markdown_path = flags.DEFINE_string("markdown", None, "Also write the markdown here.")

    def main(root: str) -> None:
        from gan_jax.commands.report import report

        markdown, table = report(root, metrics.value, tuple(percent.value),
                                 tuple(ignore.value), by_step.value)
        for path, text in ((csv_path.value, table), (markdown_path.value, markdown)):
            if path:
                with open(path, "w") as f:
                    f.write(text)
        print(markdown, end="")

    command.run(main)


def reproduce_main() -> None:
    command = _Command("gan-reproduce", Usage(
        synopsis="RUN_DIR --workdir NEW [--overwrite] [--rtol R --atol A]",
        summary="Re-trains a finished run from its saved config and seed in NEW and compares:\n"
                "bit for bit on the same platform, eval.json within a tolerance elsewhere.",
        examples=("gan-reproduce workdirs/ring --workdir workdirs/ring_again",),
        docs=f"{DOCS}sweeps.md#reproduction", positional="RUN_DIR"))
    workdir = flags.DEFINE_string("workdir", None, "Where to re-run: a new or empty directory.")
    overwrite = flags.DEFINE_bool("overwrite", False, "Replace the run NEW already holds.")
    rtol = flags.DEFINE_float("rtol", None, "Relative tolerance on eval.json numbers across "
                              "platforms (default 0.05).", lower_bound=0.0)
    atol = flags.DEFINE_float("atol", None, "Absolute tolerance on eval.json numbers across "
                              "platforms (default 0.02).", lower_bound=0.0)
    _require("workdir")

    def main(run_dir: str) -> None:
        _missing("workdir", command.name, command.usage.synopsis)
        from gan_jax.commands import reproduce as reproduce_lib
        tolerances = {k: v.value for k, v in (("rtol", rtol), ("atol", atol))
                      if v.value is not None}
        verdict = reproduce_lib.reproduce(run_dir, workdir.value, overwrite=overwrite.value,
                                          **tolerances)
        print(reproduce_lib.summary(verdict))
        if not verdict["match"]:
            sys.exit(EXIT_FAILED)

    command.run(main)
