"""Shared fixtures: small configs that train in seconds on a CPU."""

from __future__ import annotations

import os
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)  # So tests can import configs/ the way the CLI loads them.


def tiny_config(data: str = "ring", num_steps: int = 200, seed: int | None = 0):
    """A real run's config with a small MLP, so compiling and training take seconds."""
    from configs import mog_grid, mog_ring

    config = (mog_ring if data == "ring" else mog_grid).get_config()
    config.seed = seed
    config.model.generator.hidden_dim = 32
    config.model.generator.depth = 2
    config.model.discriminator.hidden_dim = 32
    config.model.discriminator.depth = 2
    config.train.batch_size = 64
    config.train.num_steps = num_steps
    config.train.steps_per_call = 25
    config.train.log_every = 50
    config.train.sample_every = 100
    config.train.checkpoint_every = 100
    config.train.progress_bar = False
    config.eval.num_samples = 500
    return config


@pytest.fixture
def make_config():
    """The `tiny_config` factory, for tests that need several configs."""
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
