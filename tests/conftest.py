"""Shared fixtures: small configs that train in seconds on a CPU."""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

# With the reference extra installed, torchvision imported after TensorFlow segfaults (seen with
# TensorFlow 2.21 and torchvision 0.29; the other order works), and the tests against
# pytorch-fid and clean-fid import it after data tests have loaded TensorFlow.
if importlib.util.find_spec("torchvision") is not None:
    import torchvision  # noqa: F401

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)  # So tests can import configs/ the way the CLI loads them.
# Tests never download: a dataset comes from its manual dir (the shared official files) or the
# test skips. Subprocesses inherit this.
os.environ["GAN_JAX_OFFLINE"] = "1"
# Compiled programs are cached across the test processes, as the commands cache them for users
# (gan_jax.cli): identical programs, compiled once.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(REPO, ".jax_cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
# Unbounded: a size limit makes JAX track access times, which concurrent workers race on.
os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", "-1")
# Tests spend most of their time compiling tiny programs that then run for milliseconds: XLA's
# backend optimisations at level 0 halve the compile time (measured on 2 cores). Results
# change only in the last bits of fused float arithmetic, and every exact comparison is
# between runs compiled alike (subprocesses inherit the flag: see `xla_flags`).
O0 = "--xla_backend_optimization_level=0"
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {O0}".strip()


@pytest.fixture
def make_config():
    """The `tiny_config` factory, for tests that need several configs."""
    from tests.helpers import tiny_config

    return tiny_config


@pytest.fixture
def image_folder(tmp_path_factory):
    """A folder of 24 small RGB images in TFDS ImageFolder's layout."""
    from tests.helpers import write_image_folder

    return write_image_folder(tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="session")
def tiny_classifier(tmp_path_factory):
    """The path of a small classifier trained on synthetic digits, and its metadata."""
    from tests.helpers import train_tiny_classifier

    workdir = str(tmp_path_factory.mktemp("classifier"))
    with pytest.MonkeyPatch.context() as monkeypatch:
        metadata = train_tiny_classifier(workdir, monkeypatch)
    return workdir, metadata


SHARED_MNIST = os.path.join(REPO, "..", "shared", "datasets", "mnist")


@pytest.fixture(scope="session")
def mnist_data_dir():
    """A TFDS data dir holding MNIST, prepared once from the shared official files (a lock
    keeps parallel test workers from preparing it twice); skips when the files are absent."""
    if not os.path.isdir(SHARED_MNIST):
        pytest.skip(f"the official MNIST files are not at {SHARED_MNIST}, and tests do not "
                    "download")
    import filelock
    import tensorflow_datasets as tfds

    data_dir = os.path.join(REPO, ".tfds_test_data")
    os.makedirs(data_dir, exist_ok=True)
    with filelock.FileLock(os.path.join(data_dir, "prepare.lock")):
        builder = tfds.builder("mnist", data_dir=data_dir)
        if not builder.is_prepared():
            tfds.disable_progress_bar()
            builder.download_and_prepare(
                download_dir=os.path.join(data_dir, "downloads", "mnist"),
                download_config=tfds.download.DownloadConfig(manual_dir=SHARED_MNIST))
    return data_dir
