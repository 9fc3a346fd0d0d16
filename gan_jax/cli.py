"""Command-line entry points (absl flags + ml_collections config files).

Each `*_main` is a console script declared in pyproject.toml and wrapped by `scripts/`. Flags are
parsed, and `--help` answered, before JAX or TensorFlow is imported. Every user mistake ends
with one line on stderr naming the culprit, and a non-zero exit status: 2 for bad input, 1 for a
failed run, 130 for an interrupt. `--debug` (or GAN_JAX_DEBUG=1) shows the traceback instead.
"""

from __future__ import annotations

import json
import os
import sys

from absl import flags
from ml_collections import config_flags

from gan_jax.commands.shell import (
    DOCS,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    Command,
    Usage,
    config_spec,
    fail,
    missing,
    parse_overrides,
    print_json,
    require,
)
from gan_jax.config import ConfigError


def train_main() -> None:
    command = Command("gan-train", Usage(
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
    require("workdir")
    resume_overrides = {}
    if config_spec(sys.argv) is None:  # Resuming: overrides apply to the saved config.
        try:
            sys.argv, resume_overrides = parse_overrides(sys.argv)
        except ConfigError as e:
            fail(str(e))

    def main() -> None:
        missing("workdir", command.name, command.usage.synopsis)
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
                fail(f"--config is required: {workdir.value} holds no run to resume; usage: "
                      f"{command.name} {command.usage.synopsis}")
            config = config_lib.apply_overrides(rundir.load_config(workdir.value),
                                                resume_overrides, "--config")
        results = train_and_evaluate(config, workdir.value)
        if results.get("stopped"):
            fail(f"interrupted; saved step {results['step']} in {workdir.value}. Run the same "
                  "command to resume.", EXIT_INTERRUPTED)
        print_json(results)

    def interrupted() -> str:
        from gan_jax.runs.checkpoint import saved_steps

        steps = saved_steps(os.path.join(workdir.value or "", "checkpoints"))
        if not steps:
            return "interrupted before the first checkpoint; nothing was saved"
        return (f"interrupted; nothing after step {steps[-1]} was saved. Run the same command "
                "to resume from it.")

    command.run(main, interrupted)


def evaluate_main() -> None:
    command = Command("gan-evaluate", Usage(
        synopsis="--workdir DIR [--metrics fd,kid] [--num_samples N] [--baseline_split train]\n"
                 "       gan-evaluate --config CONFIG --real_split train",
        summary="Evaluates the latest checkpoint of a run (raw and EMA generators) and writes\n"
                "DIR/eval.json; or measures real images of a split, the baseline to read them by.",
        examples=("gan-evaluate --workdir workdirs/ring",
                  "gan-evaluate --workdir workdirs/cifar --protocol fid50k_full,kid50k_full "
                  "--inception_path weights/pt_inception.npz",
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
        for key in ("metrics", "extractor", "extractor_path", "reference_split", "cache_dir",
                    "resize", "reference_stats", "inception_path", "dinov2_path")
    }
    protocol = flags.DEFINE_string("protocol", None, "Named protocols, e.g. fid50k_full,"
                                   "kid50k_full or fid10k (overrides eval.protocols).")

    def main() -> None:
        chosen = {k: v.value for k, v in overrides.items() if v.value is not None}
        if protocol.value is not None:
            from gan_jax.eval.protocols import parse_protocols

            parse_protocols(protocol.value, "--protocol")
            chosen["protocols"] = protocol.value
        for key in ("inception_path", "dinov2_path", "reference_stats"):
            if key in chosen:
                chosen[key] = os.path.abspath(chosen[key])
        if (workdir.value is None) == (real_split.value is None):
            fail("give either --workdir DIR (a run) or --config CONFIG with --real_split "
                  "SPLIT (real data)")
        if "extractor_path" in chosen:
            chosen["extractor_path"] = os.path.abspath(chosen["extractor_path"])
            if not os.path.exists(chosen["extractor_path"]):
                fail(f"--extractor_path: {chosen['extractor_path']} not found")
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
                fail("--real_split needs --config CONFIG")
            config = config_lib.with_seed(config_flag.value, 0)
            if num_samples.value is not None:
                config.eval.num_samples = num_samples.value
            for key, value in chosen.items():
                config.eval[key] = value
            validate(config)
            results = evaluate_real(build_experiment(config_lib.absolute_paths(config)),
                                    real_split.value)
        print_json(results)

    command.run(main)


def benchmark_main() -> None:
    command = Command("gan-benchmark", Usage(
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
    require("config")

    def main() -> None:
        missing("config", command.name, command.usage.synopsis)
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
        print_json(results)

    command.run(main)


def sample_main() -> None:
    command = Command("gan-sample", Usage(
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
    z_truncation = flags.DEFINE_float(
        "z-truncation", 0.0, "Other families: draw z from the normal truncated to [-T, T] "
        "(BigGAN's truncation trick; 0: none).")
    psis = flags.DEFINE_list("psi", ["1", "0.75", "0.5", "0.25", "0", "-0.5"],
                             "Columns of the truncation grid (--mode truncation).")
    space = flags.DEFINE_enum("space", "z", ["z", "w"], "Interpolate in Z (the latent) or, "
                              "for style-based runs, linearly in W.")
    require("workdir", "out")

    def main() -> None:
        missing("workdir", command.name, command.usage.synopsis)
        missing("out", command.name, command.usage.synopsis)
        try:
            traverse_dims = tuple(int(d) for d in dims.value)
        except ValueError:
            fail(f"--dims: expected integers, got {','.join(dims.value)}")
        try:
            psi_values = tuple(float(v) for v in psis.value)
        except ValueError:
            fail(f"--psi: expected numbers, got {','.join(psis.value)}")
        if not out.value.endswith((".png", ".npz")):
            fail(f"--out: {out.value!r} must end in .png or .npz")
        from gan_jax.commands import sample
        experiment, state = sample.load_run(workdir.value)
        warning = sample.ema_warning(experiment, state, generator.value)
        if warning:
            print(warning, file=sys.stderr)
        sample.check_request(experiment, mode.value, out.value, traverse_dims, label.value,
                             per_class.value, truncation.value, space.value, psi_values,
                             z_truncation.value)
        step = int(state.step)
        if mode.value in sample.STYLE_MODES or space.value == "w":
            images, columns = sample.style_picture(
                experiment, state, mode.value, num.value, seed.value, steps.value, psi_values,
                truncation.value, generator.value)
            print_json(sample.write_picture(out.value, images, columns, step,
                                             generator.value))
            return
        z, labels, columns = sample.make_latents(
            experiment, mode.value, num.value, seed.value, steps.value, method.value,
            traverse_dims, span.value, label.value, per_class.value, z_truncation.value)
        keys = (sample.random_noise_keys(experiment, seed.value, z.shape[0])
                if mode.value == "random" else None)
        print_json(sample.write_samples(experiment, state, out.value, z, columns,
                                         generator.value, labels, keys, truncation.value))

    command.run(main)


def translate_main() -> None:
    command = Command("gan-translate", Usage(
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
    require("workdir", "input", "out")

    def main() -> None:
        for name in ("workdir", "input", "out"):
            missing(name, command.name, command.usage.synopsis)
        from gan_jax.commands.translate import check_output, load_run, translate_files

        check_output(input_path.value, out.value)
        experiment, state = load_run(workdir.value)
        print_json(translate_files(experiment, state, input_path.value, out.value,
                                    target.value, aligned.value, generator.value, seed.value))

    command.run(main)


def project_main() -> None:
    command = Command("gan-project", Usage(
        synopsis="--workdir DIR --input IMAGE|FOLDER --out DIR [--space w|w+|z] [--steps N]",
        summary="Finds, for each target image, the latent whose image best matches it (pixels\n"
                "plus features, as StyleGAN2's projector); writes projections, pairs and .npz.",
        examples=("gan-project --workdir workdirs/stylegan_fashion --input held_out/ --out "
                  "projected/",
                  "gan-project --workdir workdirs/stylegan_fashion --input shoe.png --out "
                  "shoe/ --space w+ --steps 500",
                  "gan-project --workdir workdirs/dcgan_fashion --input held_out/ --out "
                  "projected/ --space z"),
        docs=f"{DOCS}training.md#projection"))
    workdir = flags.DEFINE_string("workdir", None, "Run directory (its latest checkpoint).")
    input_path = flags.DEFINE_string("input", None, "A target image, or a folder of them.")
    out = flags.DEFINE_string("out", None, "Output folder.")
    space = flags.DEFINE_enum("space", "w", ["w", "w+", "z"], "Latent space: one w for every "
                              "layer, one w per layer (style-based runs), or z (any run).")
    steps = flags.DEFINE_integer("steps", 1000, "Adam steps.", lower_bound=1)
    lr = flags.DEFINE_float("lr", 0.1, "Peak learning rate.", lower_bound=0.0)
    pixel_weight = flags.DEFINE_float("pixel-weight", 1.0, "Weight of the mean squared pixel "
                                      "difference.", lower_bound=0.0)
    feature_weight = flags.DEFINE_float("feature-weight", 1.0, "Weight of the extractor "
                                        "feature distance (0: pixels alone).", lower_bound=0.0)
    noise_weight = flags.DEFINE_float("noise-weight", 1e5, "Weight of the noise maps' "
                                      "regulariser (style-based runs).", lower_bound=0.0)
    avg_samples = flags.DEFINE_integer("avg-samples", 10_000, "Latents that measure the "
                                       "space's mean and spread.", lower_bound=2)
    extractor = flags.DEFINE_enum("extractor", None, ["classifier", "inception_v3"],
                                  "Feature extractor (default: the run's eval.extractor).")
    extractor_path = flags.DEFINE_string("extractor-path", None, "Its weights (default: the "
                                         "run's eval.extractor_path).")
    label = flags.DEFINE_integer("label", None, "Class-conditional runs: the targets' class.")
    generator = flags.DEFINE_enum("generator", "ema", ["ema", "raw"], "Which generator.")
    seed = flags.DEFINE_integer("seed", 0, "Seed of the noise maps and the latent noise.")
    batch_size = flags.DEFINE_integer("batch-size", 32, "Targets projected at once.",
                                      lower_bound=1)
    require("workdir", "input", "out")

    def main() -> None:
        for name in ("workdir", "input", "out"):
            missing(name, command.name, command.usage.synopsis)
        from gan_jax.commands.project import (
            image_files,
            load_run,
            project_files,
            resolve_extractor,
        )
        from gan_jax.eval.projection import ProjectionSettings

        image_files(input_path.value)
        settings = ProjectionSettings(
            steps=steps.value, space=space.value, initial_lr=lr.value,
            pixel_weight=pixel_weight.value, feature_weight=feature_weight.value,
            noise_weight=noise_weight.value, avg_samples=avg_samples.value)
        experiment, state = load_run(workdir.value)
        settings.check(hasattr(experiment.generator, "synthesize"))
        features = resolve_extractor(experiment, extractor.value, extractor_path.value,
                                     settings)
        print_json(project_files(experiment, state, input_path.value, out.value, settings,
                                 label.value, features, generator.value, seed.value,
                                 batch_size.value))

    command.run(main)


def train_classifier_main() -> None:
    command = Command("gan-train-classifier", Usage(
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
    require("config", "workdir")

    def main() -> None:
        missing("config", command.name, command.usage.synopsis)
        missing("workdir", command.name, command.usage.synopsis)
        from gan_jax.commands.train_classifier import train_classifier

        print_json(train_classifier(config_flag.value, workdir.value))

    command.run(main)


def sweep_main() -> None:
    command = Command("gan-sweep", Usage(
        synopsis="--sweep SWEEP.py --workdir DIR [--config CONFIG] [--config.KEY=VALUE ...]\n"
                 "       [--task I | --parallel N | --list] [--vectorise]",
        summary="Runs the trials of a sweep file (one config override set each), in this\n"
                "process or N worker processes; resumable, failures recorded per trial.",
        examples=("gan-sweep --sweep experiments/mog/sweep.py --workdir sweeps/ring --list",
                  "gan-sweep --sweep experiments/mog/sweep.py --workdir sweeps/ring "
                  "--parallel 2 --config.train.num_steps=1000",
                  "gan-sweep --sweep experiments/mog/sweep.py --workdir sweeps/ring "
                  "--task $SLURM_ARRAY_TASK_ID",
                  "gan-sweep --sweep experiments/gamma_sweep/sweep.py --workdir sweeps/gamma "
                  "--vectorise"),
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
    vectorise = flags.DEFINE_bool("vectorise", False, "Train each group of trials that differ "
                                  "only in vectorisable scalars (penalty weights, learning "
                                  "rates, betas, EMA decay, seeds) as one compiled program.")
    require("sweep", "workdir")
    # --config.KEY=VALUE items apply to every trial; absl never sees them, and parallel
    # workers get them as given.
    common_args = [a for a in sys.argv[1:] if a.startswith("--config.")]
    try:
        sys.argv, common = parse_overrides(sys.argv)
    except ConfigError as e:
        fail(str(e))

    def main() -> None:
        missing("sweep", command.name, command.usage.synopsis)
        missing("workdir", command.name, command.usage.synopsis)
        from gan_jax.commands import sweep as sweep_lib
        sweep = sweep_lib.Sweep(sweep_file.value, config.value, common, vectorise.value)
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
                fail(f"trial {task.value} failed: {record['error']}", EXIT_FAILED)
            if status == "interrupted":
                fail(f"trial {task.value} interrupted; run it again to resume",
                      EXIT_INTERRUPTED)
            return
        statuses = sweep_lib.run_parallel(sweep, workdir.value, parallel.value, config.value,
                                          log=lambda line: print(line, file=sys.stderr),
                                          extra_args=common_args
                                          + (["--vectorise"] if vectorise.value else []))
        print_json(statuses)
        bad = [name for name, status in statuses.items() if status not in ("done", "skipped")]
        if bad:
            fail(f"{len(bad)} of {len(statuses)} trials did not finish: {', '.join(bad)}",
                  EXIT_FAILED)

    command.run(main)


def report_main() -> None:
    command = Command("gan-report", Usage(
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
    command = Command("gan-reproduce", Usage(
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
    require("workdir")

    def main(run_dir: str) -> None:
        missing("workdir", command.name, command.usage.synopsis)
        from gan_jax.commands import reproduce as reproduce_lib
        tolerances = {k: v.value for k, v in (("rtol", rtol), ("atol", atol))
                      if v.value is not None}
        verdict = reproduce_lib.reproduce(run_dir, workdir.value, overwrite=overwrite.value,
                                          **tolerances)
        print(reproduce_lib.summary(verdict))
        if not verdict["match"]:
            sys.exit(EXIT_FAILED)

    command.run(main)
