"""Training, exporting and loading the metric classifier (on synthetic digits)."""

import json
import os

import numpy as np
import pytest

from gan_jax.commands.train_classifier import base_config, validate
from gan_jax.config.registry import ConfigError
from gan_jax.eval.extractors import build_extractor, load_classifier
from tests.helpers import synthetic_digits, train_tiny_classifier


def test_trains_exports_and_loads(tiny_classifier):
    workdir, metadata = tiny_classifier
    # The synthetic classes are separable blocks: anything below 95% is a broken loop.
    assert metadata["test_accuracy"] >= 0.95
    with open(os.path.join(workdir, "classifier.json")) as f:
        assert json.load(f)["name"] == "tiny_cnn"
    records = [json.loads(line) for line in open(os.path.join(workdir, "metrics.jsonl"))]
    assert [r["step"] for r in records] == [1, 2]

    extractor = load_classifier(workdir)
    images, labels = synthetic_digits(128, seed=5)
    out = extractor(images)
    assert out.features.shape == (128, 16) and out.probs.shape == (128, 10)
    np.testing.assert_allclose(out.probs.sum(axis=1), 1.0, atol=1e-6)
    assert np.mean(out.probs.argmax(axis=1) == labels) >= 0.95
    assert build_extractor("classifier", workdir) is build_extractor("classifier", workdir)


def test_same_seed_same_weights(tiny_classifier, tmp_path, monkeypatch):
    workdir, _ = tiny_classifier
    train_tiny_classifier(str(tmp_path), monkeypatch)
    assert load_classifier(str(tmp_path)).fingerprint == load_classifier(workdir).fingerprint


def test_stacked_images_are_read_channel_by_channel(tiny_classifier):
    extractor = load_classifier(tiny_classifier[0])
    images, labels = synthetic_digits(30, seed=6)
    stacked = np.concatenate([images[:10], images[10:20], images[20:]], axis=-1)
    out = extractor(stacked)
    assert out.features.shape == (10, 48) and out.probs.shape == (10, 3, 10)
    np.testing.assert_allclose(out.features[:, 16:32], extractor(images[10:20]).features,
                               atol=1e-6)
    assert np.mean(out.probs.argmax(-1) == labels.reshape(3, 10).T) >= 0.9


def test_config_errors_name_the_key():
    config = base_config()
    config.model.depth = 3
    with pytest.raises(ConfigError, match="unknown config key model.depth for DigitCNN"):
        validate(config)
    config = base_config()
    config.train.num_epochs = 0
    with pytest.raises(ConfigError, match="train.num_epochs"):
        validate(config)
    config = base_config()
    config.name = "mnist cnn"
    with pytest.raises(ConfigError, match="name: letters"):
        validate(config)


def test_missing_classifier_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no trained classifier in"):
        build_extractor("classifier", str(tmp_path))
