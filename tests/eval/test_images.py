"""Image evaluation: streaming features, cached references, metric names, Stacked MNIST modes,
and the evaluation of a run end to end."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from gan_jax.config.registry import ConfigError
from gan_jax.data.images import StackedDigits
from gan_jax.eval import metrics as M
from gan_jax.eval.extractors import FeatureExtractor
from gan_jax.eval.images import ImageEvaluator, compare, extract, parse_metrics, reference_path
from gan_jax.runs import evaluation
from tests.helpers import synthetic_digits, tiny_image_config, write_digit_folder


def _block_means(images: jax.Array) -> jax.Array:
    """The mean of each synthetic class's 6x6 block, in [0, 1]: [n, 10]."""
    means = []
    for k in range(10):
        top, left = 3 + (k // 5) * 13, 1 + (k % 5) * 5
        means.append(jnp.mean(images[:, top : top + 6, left : left + 6, 0], axis=(1, 2)))
    return jnp.stack(means, axis=-1) / 255.0


def oracle(fingerprint: str = "v1", calls: list | None = None) -> FeatureExtractor:
    """An exact classifier of the synthetic digits, counting its calls."""

    def apply(images):
        if calls is not None:
            calls.append(images.shape[0])
        features = _block_means(images)
        return features, 50.0 * features

    return FeatureExtractor("oracle", 1, fingerprint, apply)


def test_streamed_statistics_equal_one_shot():
    images, _ = synthetic_digits(100)
    batches = (images[i : i + 32] for i in range(0, 100, 32))
    streamed = extract(oracle(), batches, keep_features=True)
    features = np.asarray(_block_means(jnp.asarray(images, jnp.float32)), np.float64)
    np.testing.assert_allclose(streamed.stats.mean, features.mean(0), atol=1e-6)
    np.testing.assert_allclose(streamed.stats.cov, np.cov(features, rowvar=False), atol=1e-6)
    assert streamed.features.shape == (100, 10) and streamed.probs.shape == (100, 10)
    assert extract(oracle(), iter([images]), keep_features=False).features is None


def test_metric_names_and_identical_sets():
    images, labels = synthetic_digits(200)
    real = extract(oracle(), iter([images]), True)
    out = compare(("fd", "kid", "is", "pr", "dc"), real, real, "oracle", "test",
                  jax.random.PRNGKey(0), stacked=False)
    assert set(out) == {"fd_oracle_n200_test", "kid_oracle_n200_test",
                        "kid_oracle_n200_test_std", "is_oracle_n200", "is_oracle_n200_std",
                        "precision_oracle_n200_test", "recall_oracle_n200_test",
                        "density_oracle_n200_test", "coverage_oracle_n200_test"}
    assert abs(out["fd_oracle_n200_test"]) < 1e-8
    assert abs(out["kid_oracle_n200_test"]) < 0.01  # Subsets differ; the MMD is ~0.
    assert out["precision_oracle_n200_test"] == out["recall_oracle_n200_test"] == 1.0
    assert out["coverage_oracle_n200_test"] == 1.0
    # Confident predictions: each split's score is exp(entropy of its label histogram).
    expected = [np.exp(-np.sum(p[p > 0] * np.log(p[p > 0])))
                for p in (np.bincount(part, minlength=10) / len(part)
                          for part in np.array_split(labels, 10))]
    assert out["is_oracle_n200"] == pytest.approx(np.mean(expected), rel=1e-3)


def test_parse_metrics():
    assert parse_metrics(" fd, kid ,") == ("fd", "kid")
    with pytest.raises(ConfigError, match="unknown metric 'fid'"):
        parse_metrics("fd,fid")


def _stacked_evaluator(tmp_path, extractor):
    images, labels = synthetic_digits(500)
    dataset = StackedDigits("synthetic", (28, 28, 3), lambda: (images, labels))
    return ImageEvaluator(extractor, ("modes", "fd"), dataset, "synthetic", "test",
                          str(tmp_path), 4096), dataset


def test_stacked_modes_of_real_and_collapsed_samples(tmp_path):
    evaluator, dataset = _stacked_evaluator(tmp_path, oracle())
    arrays = dataset.load()
    real, triples = dataset.stack(arrays, jax.random.PRNGKey(1), 26_000)
    truth = M.stacked_mnist_modes(triples)
    out = evaluator.evaluate(lambda s, n: real[s : s + n], 26_000, jax.random.PRNGKey(0))
    assert out["modes_oracle_n26000"] == truth["modes"] == 1000
    assert out["kl_modes_oracle_n26000"] == pytest.approx(truth["kl"])
    # The true triple distribution is a product of three copies of the digits' label
    # frequencies (not quite uniform); sampling noise adds E ~ (K - 1) / (2N) = 0.019.
    true_kl = 3 * M.kl_to_uniform(np.bincount(arrays["labels"], minlength=10))
    assert true_kl < out["kl_modes_oracle_n26000"] < true_kl + 0.04
    assert out["fd_oracle_n26000_test"] < 1e-3
    collapsed = evaluator.evaluate(lambda s, n: np.repeat(real[:1], n, 0), 26_000,
                                   jax.random.PRNGKey(0))
    assert collapsed["modes_oracle_n26000"] == 1
    assert collapsed["kl_modes_oracle_n26000"] == pytest.approx(np.log(1000))


def test_reference_is_cached_by_name_and_weights(tmp_path):
    calls = []
    evaluator, _ = _stacked_evaluator(tmp_path, oracle("v1", calls))
    first = evaluator.reference(1000)
    path = reference_path(str(tmp_path), "synthetic", "test", "oracle", 1000)
    assert os.path.basename(path) == "synthetic_test_oracle_n1000.npz" and os.path.exists(path)
    traced = len(calls)
    again = evaluator.reference(1000)
    assert len(calls) == traced  # Read from the file, not recomputed.
    np.testing.assert_array_equal(first.stats.outer, again.stats.outer)
    with np.load(path, allow_pickle=False) as f:  # Plain arrays only.
        assert set(f.files) == {"count", "total", "outer", "fingerprint", "probs", "labels",
                                "mu", "sigma"}  # mu, sigma: as pytorch-fid reads them.
    other, _ = _stacked_evaluator(tmp_path, oracle("v2", calls))
    other.reference(1000)
    assert len(calls) > traced  # Other weights: recomputed.


@pytest.fixture(scope="module")
def digit_folder(tmp_path_factory):
    return write_digit_folder(tmp_path_factory.mktemp("digits"), {"train": 96, "test": 64})


def _eval_config(folder, classifier_dir, cache_dir):
    config = tiny_image_config(folder, num_steps=10)
    config.data.image_size = 28
    config.data.channels = 1
    config.data.random_flip = False
    config.train.eval_every = 10
    config.eval.metrics = "fd,kid,is,pr,dc"
    config.eval.extractor_path = classifier_dir
    config.eval.reference_split = "test"
    config.eval.num_samples = 48
    config.eval.batch_size = 32
    config.eval.cache_dir = str(cache_dir)
    return config


def test_run_is_evaluated_during_training_and_by_command(digit_folder, tiny_classifier,
                                                         tmp_path):
    from gan_jax.runs.evaluation import evaluate_workdir
    from gan_jax.runs.loop import train_and_evaluate

    config = _eval_config(digit_folder, tiny_classifier[0], tmp_path / "cache")
    workdir = str(tmp_path / "run")
    results = train_and_evaluate(config, workdir)
    for generator in ("raw", "ema"):
        assert results[generator]["fd_tiny_cnn_n48_test"] > 0
        assert 0 <= results[generator]["precision_tiny_cnn_n48_test"] <= 1
    logged = [json.loads(line) for line in open(os.path.join(workdir, "metrics.jsonl"))]
    assert any("eval/ema/kid_tiny_cnn_n48_test" in r for r in logged)
    with open(os.path.join(workdir, "eval.json")) as f:
        assert json.load(f) == json.loads(json.dumps(results))

    again = evaluate_workdir(workdir, num_samples=32, overrides={"metrics": "fd"},
                             baseline_split="test")
    assert set(again["ema"]) == {"fd_tiny_cnn_n32_test"}
    assert abs(again["real_test"]["fd_tiny_cnn_n32_test"]) < 1e-6  # Test against itself.
    with pytest.raises(ConfigError, match="unknown config key 'eval.metric'; did you mean "
                                          "'eval.metrics'"):
        evaluate_workdir(workdir, overrides={"metric": "fd"})


def test_real_baseline(digit_folder, tiny_classifier, tmp_path):
    from gan_jax.config import with_seed
    from gan_jax.training.experiment import build_experiment

    config = with_seed(_eval_config(digit_folder, tiny_classifier[0], tmp_path))
    experiment = build_experiment(config)
    same = evaluation.evaluate_real(experiment, "test")["real"]
    assert abs(same["fd_tiny_cnn_n48_test"]) < 1e-6
    assert same["precision_tiny_cnn_n48_test"] == same["recall_tiny_cnn_n48_test"] == 1.0
    other = evaluation.evaluate_real(experiment, "train")["real"]
    assert other["fd_tiny_cnn_n48_test"] > 0


def test_eval_config_errors(digit_folder, tmp_path, make_config):
    from gan_jax.config import with_seed
    from gan_jax.training.experiment import build_experiment

    def build(config):
        return build_experiment(with_seed(config, 0))

    config = _eval_config(digit_folder, str(tmp_path / "nowhere"), tmp_path)
    # A classifier not trained yet: its metrics are skipped, saying why and what to do.
    skipped = build(config).skipped_metrics
    assert f"no trained classifier in {tmp_path / 'nowhere'}" in skipped
    with pytest.raises(ConfigError, match="no trained classifier in"):
        evaluation.evaluate_real(build(config), "test")
    config.eval.extractor = "vgg"
    with pytest.raises(ConfigError, match="eval.extractor: unknown extractor 'vgg'"):
        build(config)
    ring = make_config()
    ring.eval.metrics = "fd"
    with pytest.raises(ConfigError, match="eval.metrics: 'fd' are image metrics"):
        build(ring)


def test_class_metrics_of_known_features():
    from gan_jax.eval.images import FeatureSet, compare_classes

    key = jax.random.PRNGKey(0)
    labels = np.arange(400) % 4
    centres = 5.0 * np.eye(4, 3)
    real = np.asarray(jax.random.normal(key, (400, 3))) + centres[labels]
    real_set = FeatureSet(M.FeatureStats(3).update(real), real, None, labels)
    probs = np.eye(4)[np.where(np.arange(400) % 10 == 0, (labels + 1) % 4, labels)]
    fake_set = FeatureSet(M.FeatureStats(3).update(real), real, probs, labels)
    same = compare_classes(fake_set, real_set, 4, "oracle", "test")
    assert same["class_accuracy_oracle_n400"] == pytest.approx(0.9)
    assert same["intra_fd_oracle_n400_test"] == pytest.approx(0.0, abs=1e-6)
    # Fakes with the classes swapped: each class sits 5 away from its real class (mean
    # term 25 for three of them, the fourth centre is at the origin, also 5 away), while the
    # pooled features, and so the unconditional FD, are unchanged.
    swapped = FeatureSet(fake_set.stats, real, probs, (labels + 1) % 4)
    value = compare_classes(swapped, real_set, 4, "oracle", "test")["intra_fd_oracle_n400_test"]
    assert value == pytest.approx(np.mean([np.sum((centres[k] - centres[(k + 1) % 4]) ** 2)
                                           for k in range(4)]), rel=0.15)


def test_conditional_run_reports_class_metrics(digit_folder, tiny_classifier, tmp_path):
    from gan_jax.commands.sample import load_run, make_latents, write_samples
    from gan_jax.runs.loop import train_and_evaluate

    config = _eval_config(digit_folder, tiny_classifier[0], tmp_path / "cache")
    config.model.condition = "class"
    config.train.eval_every = 0
    config.eval.metrics = "fd"
    config.eval.num_samples = 60
    workdir = str(tmp_path / "run")
    results = train_and_evaluate(config, workdir)
    for generator in ("raw", "ema"):
        assert 0.0 <= results[generator]["class_accuracy_tiny_cnn_n60"] <= 1.0
        assert results[generator]["intra_fd_tiny_cnn_n60_test"] > 0
        assert results[generator]["fd_tiny_cnn_n60_test"] > 0
    # Training-time grids: one row of 8 per class, 28 + 2 pixels each.
    grid = np.asarray(Image.open(os.path.join(workdir, "samples", "step_00000010_ema.png")))
    assert grid.shape == (10 * 30 + 2, 8 * 30 + 2)
    experiment, state = load_run(workdir)
    z, labels, columns = make_latents(experiment, "random", 0, per_class=4)
    out = str(tmp_path / "classes.png")
    write_samples(experiment, state, out, z, columns, labels=labels)
    assert np.asarray(Image.open(out)).shape == (10 * 30 + 2, 4 * 30 + 2)


def test_a_metric_is_one_function_and_one_table_entry(tmp_path, monkeypatch):
    # The "adding a metric" example of docs/development.md, end to end through the evaluator.
    from gan_jax.eval import images as images_lib

    def mean_shift(c):
        return {f"mean_shift_{c.against}":
                float(np.linalg.norm(c.fake.stats.mean - c.real.stats.mean))}

    monkeypatch.setitem(images_lib.IMAGE_METRICS, "mean_shift",
                        images_lib.ImageMetric(mean_shift))
    assert parse_metrics("fd,mean_shift") == ("fd", "mean_shift")
    images, labels = synthetic_digits(300)
    dataset = StackedDigits("synthetic", (28, 28, 3), lambda: (images, labels))
    evaluator = ImageEvaluator(oracle(), ("mean_shift",), dataset, "synthetic", "test",
                               str(tmp_path), 512)
    real = evaluator.reference(300)
    blank = evaluator.evaluate(lambda s, n: np.zeros((n, 28, 28, 3), np.uint8), 300,
                               jax.random.PRNGKey(0))
    # All-black images have zero features, so the shift is the norm of the real mean.
    assert blank == {"mean_shift_oracle_n300_test":
                     pytest.approx(float(np.linalg.norm(real.stats.mean)), rel=1e-6)}
