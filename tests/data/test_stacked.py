"""Stacked MNIST: three independently drawn digits as the R, G and B channels."""

import jax
import numpy as np

from gan_jax.data.images import StackedDigits
from tests.helpers import synthetic_digits


def _dataset(num=96):
    images, labels = synthetic_digits(num)
    # Each digit's image holds its index in pixel (0, 0), so samples can be traced back.
    images[:, 0, 0, 0] = np.arange(num)
    dataset = StackedDigits("synthetic", (28, 28, 3), lambda: (images, labels), num_classes=1000)
    return dataset, images, labels


def test_samples_stack_three_independent_permutations():
    dataset, images, labels = _dataset()
    data = dataset.device_data(jax.random.PRNGKey(0), 32)
    assert data["images"].shape == (96, 28, 28, 1)
    samples = [dataset.sample(data, jax.random.PRNGKey(1), b, 32) for b in range(3)]
    batches = [np.asarray(s["x"]) for s in samples]
    assert batches[0].shape == (32, 28, 28, 3)
    ids = np.concatenate([np.round((b[:, 0, 0, :] + 1) * 127.5).astype(int) for b in batches])
    for c in range(3):  # One epoch: every digit exactly once in each channel.
        assert sorted(ids[:, c]) == list(range(96))
    assert not (ids[:, 0] == ids[:, 1]).all() and not (ids[:, 1] == ids[:, 2]).all()
    np.testing.assert_array_equal(batches[1],
                                  dataset.sample(data, jax.random.PRNGKey(9), 1, 32)["x"])
    # Each stacked image's label is its mode: 100 * red digit + 10 * green + blue.
    mode = labels[ids[:32, 0]] * 100 + labels[ids[:32, 1]] * 10 + labels[ids[:32, 2]]
    np.testing.assert_array_equal(np.asarray(samples[0]["label"]), mode)


def test_stack_returns_images_and_digit_triples():
    dataset, images, labels = _dataset()
    arrays = dataset.load()
    stacked, triples = dataset.stack(arrays, jax.random.PRNGKey(3), 500)
    assert stacked.shape == (500, 28, 28, 3) and triples.shape == (500, 3)
    for c in range(3):
        np.testing.assert_array_equal(labels[stacked[:, 0, 0, c]], triples[:, c])
    again, _ = dataset.stack(arrays, jax.random.PRNGKey(3), 500)
    np.testing.assert_array_equal(stacked, again)
