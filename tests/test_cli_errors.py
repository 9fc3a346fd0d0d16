"""What a user sees first: every command's --help, and one clear line for every mistake."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO

BIN = os.path.dirname(sys.executable)
COMMANDS = {  # command: flags its --help must list
    "gan-train": ["--config", "--workdir", "--overwrite", "--config.KEY=VALUE", "--debug"],
    "gan-evaluate": ["--workdir", "--metrics", "--baseline_split", "--real_split"],
    "gan-sample": ["--workdir", "--out", "--mode", "--dims", "--num"],
    "gan-translate": ["--workdir", "--input", "--out", "--target", "--aligned"],
    "gan-project": ["--workdir", "--input", "--out", "--space", "--steps", "--feature-weight"],
    "gan-benchmark": ["--config", "--calls", "--repeats", "--per_layer", "--input_images"],
    "gan-train-classifier": ["--config", "--workdir"],
    "gan-sweep": ["--sweep", "--workdir", "--task", "--parallel", "--list"],
    "gan-report": ["--metrics", "--csv", "--markdown"],
    "gan-reproduce": ["--workdir", "--overwrite", "--rtol"],
}
# The small ring run of the error tests: compiles and trains in seconds.
SMALL = ["--config.seed=0", "--config.model.generator.hidden_dim=16",
         "--config.model.discriminator.hidden_dim=16", "--config.train.batch_size=32",
         "--config.train.steps_per_call=25", "--config.train.log_every=50",
         "--config.train.sample_every=0", "--config.train.checkpoint_every=100",
         "--config.eval.num_samples=200"]
RING = os.path.join(REPO, "configs", "mog.py")


def run(*args, cwd=REPO, env=None, timeout=300):
    command = [os.path.join(BIN, args[0]), *args[1:]]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env={**os.environ, **(env or {})})


def assert_one_line_error(done, status, *fragments):
    """Exit `status`, and stderr's last line is the only error line: no traceback."""
    assert done.returncode == status, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    assert done.stderr.strip().splitlines()[-1] == errors[0]
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_lists_the_command_flags_and_examples_quickly(command):
    start = time.perf_counter()
    done = run(command, "--help")
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    assert elapsed < 2.0, f"{command} --help took {elapsed:.2f} s"
    text = done.stdout
    assert text.startswith(f"usage: {command} ")
    assert len(text.split("\n\n")[1].splitlines()) == 2  # Two lines on what it does.
    for flag in COMMANDS[command]:
        assert f"  {flag} " in text, flag
    examples = text.split("examples:\n")[1].split("\n\n")[0].splitlines()
    assert examples and all(line.strip().startswith(command) for line in examples)
    assert "--helpfull" in text and "--only_check_flags" not in text  # Not absl's flags.


def test_helpfull_exits_zero():
    done = run("gan-train", "--helpfull")
    assert done.returncode == 0 and "--verbosity" in done.stdout


def test_debug_shows_the_traceback(tmp_path):
    (tmp_path / "file").write_text("")
    args = ("gan-train", "--config", RING, "--workdir", str(tmp_path / "file"))
    assert "Traceback" in run(*args, "--debug").stderr  # Without: the one-line test below.
    assert "Traceback" in run(*args, env={"GAN_JAX_DEBUG": "1"}).stderr


@pytest.mark.parametrize("args, fragments", [
    (["--config", "configs/missing.py"], ["--config: no such config file: configs/missing.py"]),
    (["--config", "configs/mog.py:spiral"],
     ["configs/mog.py:spiral", "must be one of ring, grid, got 'spiral'"]),
    (["--config", "configs/dcgan_cifar10.py:big"],
     ["configs/dcgan_cifar10.py takes no argument, got 'big'"]),
    (["--config", "configs/mog.py", "--config.model.generator.width=64"],
     ["unknown config key 'model.generator.width'; did you mean "
      "'model.generator.hidden_dim'?"]),
    (["--config", "configs/mog.py", "--config.train.lr=0.1"],
     ["did you mean 'optim.d.lr' or 'optim.g.lr'?"]),
    (["--config", "configs/mog.py", "--config.train.batch_size=big"],
     ["--config.train.batch_size: cannot use 'big'"]),
    (["--config", "configs/mog.py", "--bogus"], ["unknown flag 'bogus'"]),
    (["--config", "configs/mog.py"], ["--workdir is required"]),
    (["--config", "configs/mog.py", "--workdir", "w", "stray"], ["unexpected argument: stray"]),
])
def test_mistakes_on_the_command_line_get_one_line(tmp_path, args, fragments):
    done = run("gan-train", *args, timeout=60)
    assert_one_line_error(done, 2, *fragments)


def test_a_workdir_that_is_a_file_gets_one_line(tmp_path):
    (tmp_path / "run").write_text("")
    done = run("gan-train", "--config", RING, "--workdir", str(tmp_path / "run"))
    assert_one_line_error(done, 2, "run is a file, not a directory")


def test_an_unknown_dataset_is_named_without_library_noise(tmp_path):
    done = run("gan-train", "--config", RING, "--workdir", str(tmp_path / "run"),
               "--config.data.name=mnsit")
    assert_one_line_error(done, 2, "unknown dataset 'mnsit'; did you mean 'mnist'?")
    assert done.stderr.count("\n") == 1  # Nothing from TensorFlow or absl.
    assert not os.path.exists(tmp_path / "run")


def test_a_dataset_that_cannot_be_had_fails_fast_and_says_where_files_go(tmp_path):
    (tmp_path / "manual").mkdir()
    start = time.perf_counter()
    done = run("gan-train", "--config", "configs/dcgan_mnist.py", "--workdir",
               str(tmp_path / "run"), f"--config.data.data_dir={tmp_path / 'tfds'}",
               f"--config.data.manual_dir={tmp_path / 'manual'}",
               env={"GAN_JAX_OFFLINE": "1"})
    # Fast: before any download or compilation (the bound leaves room for a loaded machine's
    # imports; a download attempt would hang far longer).
    assert time.perf_counter() - start < 30
    assert_one_line_error(done, 2, "mnist is not prepared", "train-images-idx3-ubyte.gz",
                          f"into {tmp_path / 'manual'}")


def test_ctrl_c_before_the_first_checkpoint_says_nothing_was_saved(tmp_path):
    workdir = str(tmp_path / "run")
    process = subprocess.Popen(
        [os.path.join(BIN, "gan-train"), "--config", RING, "--workdir", workdir,
         "--config.train.checkpoint_every=5000"], cwd=REPO, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    process.stderr.readline()  # "run in ...": the run is being built, before the first step.
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 130
    assert "Traceback" not in err and "Exception ignored" not in err
    last = err.strip().splitlines()[-1]
    if "saved step 100" in last:  # A loaded machine: the signal came during the first call.
        assert last.startswith("error: interrupted; saved step 100 in ")
    else:
        assert last == "error: interrupted before the first checkpoint; nothing was saved"


def test_a_nan_halt_then_a_retry_and_an_extension_from_another_directory(tmp_path):
    workdir = str(tmp_path / "run")
    args = ["gan-train", "--config", RING, "--workdir", workdir, *SMALL,
            "--config.train.num_steps=100"]
    done = run(*args, "--config.optim.d.lr=1e9", "--config.optim.g.lr=1e9")
    assert_one_line_error(done, 1, "NaN or infinite", "no checkpoint was saved",
                          "run again in it with lower learning rates")
    assert "None" not in done.stderr
    retried = run(*args)  # Corrected learning rates, same workdir.
    assert retried.returncode == 0, retried.stderr
    # Resumed with the saved config alone, from another current directory.
    (tmp_path / "elsewhere").mkdir()
    extended = run("gan-train", "--workdir", workdir, "--config.train.num_steps=150",
                   cwd=tmp_path / "elsewhere")
    assert extended.returncode == 0, extended.stderr
    assert f"extending the run in {workdir} from 100 to 150 steps" in extended.stderr


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    from gan_jax.runs.loop import train_and_evaluate
    from tests.helpers import tiny_config

    workdir = str(tmp_path_factory.mktemp("ring") / "run")
    train_and_evaluate(tiny_config(num_steps=50), workdir)
    return workdir


def test_asking_a_finished_run_for_fewer_steps_is_one_line_and_writes_nothing(ring_run):
    saved = open(os.path.join(ring_run, "config.json"), "rb").read()
    done = run("gan-train", "--workdir", ring_run, "--config.train.num_steps=20")
    assert_one_line_error(done, 2, "train.num_steps: 20 is fewer than the 50 steps",
                          "give at least 50")
    assert open(os.path.join(ring_run, "config.json"), "rb").read() == saved


def test_sample_draws_a_scatter_plot_of_a_mixture_run(ring_run, tmp_path):
    from PIL import Image

    out = str(tmp_path / "ring.png")
    done = run("gan-sample", "--workdir", ring_run, "--out", out, "--num", "500")
    assert done.returncode == 0, done.stderr
    picture = Image.open(out)
    assert picture.size[0] > 200 and len(picture.getcolors(1 << 20)) > 10  # A real plot.


@pytest.mark.parametrize("args, fragments", [
    (["--mode", "traverse", "--dims", "0,7"], ["--dims: 7 out of range", "2 dimensions"]),
    (["--mode", "interpolate"], ["--mode interpolate", "write an .npz"]),
    (["--mode", "mixing"], ["--mode mixing: needs a style-based generator", "'mlp'"]),
])
def test_sample_refuses_what_the_run_cannot_give(ring_run, tmp_path, args, fragments):
    done = run("gan-sample", "--workdir", ring_run, "--out", str(tmp_path / "x.png"), *args)
    assert_one_line_error(done, 2, *fragments)
    assert not os.path.exists(tmp_path / "x.png")


def test_reproduce_refuses_a_non_empty_directory(ring_run, tmp_path):
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "keep.txt").write_text("mine")
    done = run("gan-reproduce", ring_run, "--workdir", str(tmp_path / "new"))
    assert_one_line_error(done, 2, "is not empty", "--overwrite")
    assert os.listdir(tmp_path / "new") == ["keep.txt"]


def test_evaluate_says_which_metrics_it_skipped_and_how_to_get_them(tmp_path, image_folder,
                                                                   capsys):
    import json

    from gan_jax.runs.loop import train_and_evaluate
    from tests.helpers import tiny_image_config

    config = tiny_image_config(image_folder, num_steps=5)
    config.eval.metrics = "fd,kid"
    config.eval.extractor_path = str(tmp_path / "classifiers" / "digits")
    workdir = str(tmp_path / "run")
    train_and_evaluate(config, workdir)
    assert "eval.metrics fd,kid will be skipped: no trained classifier" in capsys.readouterr().err
    done = run("gan-evaluate", "--workdir", workdir)
    assert done.returncode == 0, done.stderr
    assert "skipped eval.metrics fd,kid: no trained classifier in" in done.stderr
    with open(os.path.join(workdir, "eval.json")) as f:
        assert json.load(f)["skipped"]["metrics"] == "fd,kid"


def test_the_missing_mnist_classifier_message_is_the_command_that_trains_it():
    from gan_jax.eval.extractors import missing_extractor

    message = missing_extractor("classifier", "/x/classifiers/mnist_cnn", "fashion_mnist")
    assert ("gan-train-classifier --config configs/classifier.py:fashion_mnist --workdir "
            "/x/classifiers/mnist_cnn") in message
    # Datasets derived from MNIST-like data name the same classifier's command.
    for derived, variant in (("edges2fashion", ":fashion_mnist"), ("edges2mnist", ""),
                             ("inpaint_fashion", ":fashion_mnist")):
        message = missing_extractor("classifier", "/x/c", derived)
        assert f"gan-train-classifier --config configs/classifier.py{variant} " in message


def test_a_conditional_run_says_its_class_metrics_are_skipped_too(tmp_path, image_folder,
                                                                   capsys):
    from gan_jax.runs.loop import train_and_evaluate
    from tests.helpers import tiny_image_config

    config = tiny_image_config(image_folder, num_steps=2)
    config.model.condition = "class"
    config.eval.metrics = "fd"
    config.eval.extractor_path = str(tmp_path / "classifiers" / "digits")
    train_and_evaluate(config, str(tmp_path / "run"))
    assert ("eval.metrics fd (and class_accuracy, intra_fd) will be skipped"
            in capsys.readouterr().err)
