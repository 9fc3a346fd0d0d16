"""Streaming input reads the batches the in-memory path gathers, and resumes exactly."""

import dataclasses

import jax
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax.config import ConfigError
from gan_jax.data import streaming
from gan_jax.runs.loop import train_and_evaluate
from gan_jax.training.experiment import DATA_STREAM, build_experiment
from tests.helpers import assert_states_identical, load_state, tiny_config, tiny_image_config


def _experiment(config):
    return build_experiment(config_lib.with_seed(config, 0))


@pytest.mark.parametrize("source", ["files", "host memory"])
def test_streamed_batches_equal_the_device_path_across_epochs_and_from_any_batch(
        image_folder, source):
    config = tiny_image_config(image_folder)
    config.data.random_flip = False  # Compare the images themselves.
    config.train.input = "device"
    experiment = _experiment(config)
    dataset = experiment.dataset
    key = experiment.stream_key(DATA_STREAM)
    data = dataset.device_data(key, 8)
    # 24 images in batches of 8: batches 0-7 span three epochs, each shuffled anew.
    expected = [dataset.sample(data, key, b, 8) for b in range(8)]
    if source == "host memory":
        dataset = dataclasses.replace(dataset, files=None)
    streamed = streaming.StreamedImages(dataset)
    for first in (0, 5):  # From the start, and as a resumed run would.
        feed = streaming.BatchFeeder(dataset, key, 8, first).take(8 - first)
        assert feed["images"].shape == (8 - first, 8, 8, 8, 3)
        assert feed["images"].dtype == np.uint8 and int(feed["first_batch"]) == first
        for b in range(first, 8):
            batch = streamed.sample(jax.device_put(feed), key, b, 8)
            np.testing.assert_array_equal(np.asarray(batch["x"]), np.asarray(expected[b]["x"]))
            np.testing.assert_array_equal(np.asarray(batch["label"]),
                                          np.asarray(expected[b]["label"]))
    epochs = [np.sort(np.asarray(e["x"]).reshape(8, -1), axis=0) for e in expected[:3]]
    assert not np.array_equal(expected[0]["x"], expected[3]["x"])  # Reshuffled per epoch.
    assert len({e.tobytes() for e in epochs}) == 3  # Three different thirds of the split.


def test_a_streamed_run_resumed_midway_equals_the_device_run(image_folder, tmp_path):
    device = tiny_image_config(image_folder, num_steps=20)
    device.train.input = "device"
    device.train.n_disc = 2
    train_and_evaluate(device, str(tmp_path / "device"))

    streamed = str(tmp_path / "streamed")
    first = tiny_image_config(image_folder, num_steps=10)
    first.train.input = "stream"
    first.train.n_disc = 2
    train_and_evaluate(first, streamed)
    second = tiny_image_config(image_folder, num_steps=20)
    second.train.input = "stream"
    second.train.n_disc = 2
    train_and_evaluate(second, streamed)
    assert_states_identical(load_state(streamed), load_state(str(tmp_path / "device")))
    train_and_evaluate(second, streamed)  # Already finished: evaluates again, trains nothing.
    assert int(load_state(streamed).step) == 20


def test_streaming_what_it_cannot_stream_is_one_clear_error(image_folder):
    ring = tiny_config()
    ring.train.input = "stream"
    with pytest.raises(ConfigError, match="train.input: 'stream' reads plain image datasets"):
        _experiment(ring)
    seeds = tiny_image_config(image_folder)
    seeds.train.input = "stream"
    seeds.train.num_seeds = 2
    with pytest.raises(ConfigError, match=r"vectorised seeds \(train.num_seeds=2\)"):
        _experiment(seeds)
    # "auto" streams only splits larger than the limit: 24 8x8x3 images fit under 1 MB.
    auto = tiny_image_config(image_folder)
    auto.train.device_data_limit_mb = 1
    assert not _experiment(auto).streamed
    auto.train.device_data_limit_mb = 0.001
    assert _experiment(auto).streamed
