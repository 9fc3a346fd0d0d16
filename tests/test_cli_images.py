"""Image runs through the command line: MNIST from the shared files, and gan-sample."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from gan_jax.commands.sample import load_run, make_latents, write_samples

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--config.seed=0", "--config.model.generator.width=8",
        "--config.model.discriminator.width=8", "--config.train.batch_size=16",
        "--config.train.log_every=2", "--config.train.sample_every=0",
        "--config.train.checkpoint_every=2", "--config.train.progress_bar=False",
        "--config.eval.metrics=", "--config.data.split=test"]  # 10,000 images: read fast.


def _run(*args, timeout=600):
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory, mnist_data_dir):
    root = tmp_path_factory.mktemp("mnist_cli")
    workdir = str(root / "run")
    done = _run(os.path.join("scripts", "train.py"), "--config", "configs/dcgan_mnist.py",
                "--workdir", workdir, "--config.train.num_steps=4",
                f"--config.data.data_dir={mnist_data_dir}", *TINY)
    assert done.returncode == 0, done.stderr[-3000:]
    (root / "train_stderr.txt").write_text(done.stderr)
    return workdir


def test_dcgan_mnist_smoke_run(mnist_run):
    stderr = open(os.path.join(os.path.dirname(mnist_run), "train_stderr.txt")).read()
    # TensorFlow's C++ start-up INFO lines stay hidden at the default verbosity.
    assert "oneDNN" not in stderr and "absl::InitializeLog" not in stderr, stderr
    assert stderr.startswith("gan_jax: run in ")
    assert sorted(os.listdir(os.path.join(mnist_run, "samples"))) == [
        "step_00000004_ema.png", "step_00000004_raw.png"]
    with open(os.path.join(mnist_run, "metrics.jsonl")) as f:
        records = [json.loads(line) for line in f]
    assert [r["step"] for r in records] == [2, 4]
    assert all(np.isfinite(r["d_loss"]) and np.isfinite(r["g_loss"]) for r in records)
    grid = np.asarray(Image.open(os.path.join(mnist_run, "samples", "step_00000004_raw.png")))
    assert grid.shape == (8 * 30 + 2, 8 * 30 + 2)  # 64 grayscale 28x28 samples.


def test_sample_command_writes_a_traversal_grid(mnist_run, tmp_path):
    out = str(tmp_path / "traverse.png")
    done = _run(os.path.join("scripts", "sample.py"), "--workdir", mnist_run, "--out", out,
                "--mode", "traverse", "--num", "2", "--steps", "4", "--dims", "0,5,7")
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["step"] == 4
    # One row per (base latent, dimension), one column per value: 6 x 4 cells of 28 + 2.
    assert np.asarray(Image.open(out)).shape == (6 * 30 + 2, 4 * 30 + 2)


@pytest.mark.parametrize("mode,num,steps,shape", [
    ("random", 6, 8, (2 * 30 + 2, 3 * 30 + 2)),
    ("interpolate", 2, 5, (2 * 30 + 2, 5 * 30 + 2)),
])
def test_sample_grids(mnist_run, tmp_path, mode, num, steps, shape):
    experiment, state = load_run(mnist_run)
    z, _, columns = make_latents(experiment, mode, num, steps=steps, method="linear")
    out = str(tmp_path / f"{mode}.png")
    assert write_samples(experiment, state, out, z, columns)["step"] == 4
    assert np.asarray(Image.open(out)).shape == shape


def test_sample_writes_npz_from_either_generator(mnist_run, tmp_path):
    experiment, state = load_run(mnist_run)
    z, _, columns = make_latents(experiment, "random", 5)
    outputs = {}
    for generator in ("raw", "ema"):
        out = str(tmp_path / f"{generator}.npz")
        write_samples(experiment, state, out, z, columns, generator)
        with np.load(out) as saved:
            outputs[generator] = saved["samples"]
            np.testing.assert_array_equal(saved["latents"], z)
            assert int(saved["step"]) == 4
    assert outputs["raw"].shape == (5, 28, 28, 1)
    assert np.abs(outputs["raw"]).max() <= 1.0
    assert not np.allclose(outputs["raw"], outputs["ema"])


def test_sample_rejects_bad_arguments(mnist_run, tmp_path):
    done = _run(os.path.join("scripts", "sample.py"), "--workdir", mnist_run,
                "--out", str(tmp_path / "x.jpg"))
    assert done.returncode == 2 and "must end in .png or .npz" in done.stderr
    done = _run(os.path.join("scripts", "sample.py"), "--workdir", mnist_run,
                "--out", str(tmp_path / "x.png"), "--mode", "traverse", "--dims", "100")
    assert done.returncode == 2 and "--dims: 100 out of range" in done.stderr
