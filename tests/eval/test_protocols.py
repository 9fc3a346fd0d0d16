"""Named protocols and published statistics: what the names expand to, one pass over shared
samples, and reading pytorch-fid's and clean-fid's statistics files."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from gan_jax.config.registry import ConfigError
from gan_jax.eval import images as images_lib
from gan_jax.eval import metrics as M
from gan_jax.eval.extractors import build_extractor
from gan_jax.eval.protocols import PROTOCOLS, Protocol, parse_protocols
from gan_jax.runs import evaluation
from gan_jax.runs.loop import train_and_evaluate
from gan_jax.runs.rundir import load_run
from tests.helpers import tiny_image_config, write_digit_folder


@pytest.mark.parametrize("name, metric, num, split, extractor, resize", [
    ("fid50k_full", "fd", 50_000, "train", "inception_v3", "legacy_pytorch"),
    ("kid50k_full", "kid", 50_000, "train", "inception_v3", "legacy_pytorch"),
    ("pr50k3_full", "pr", 50_000, "train", "inception_v3", "legacy_pytorch"),
    ("is50k", "is", 50_000, None, "inception_v3", "legacy_pytorch"),
    ("fid10k", "fd", 10_000, "test", "inception_v3", "legacy_pytorch"),
    ("fid50k_full_clean", "fd", 50_000, "train", "inception_v3", "clean"),
    ("fd_dinov2", "fd", 50_000, "train", "dinov2", "pil_bicubic"),
    ("kd_dinov2", "kid", 50_000, "train", "dinov2", "pil_bicubic"),
    ("dc_dinov2", "dc", 50_000, "train", "dinov2", "pil_bicubic"),
])
def test_each_protocol_expands_to_its_settings(name, metric, num, split, extractor, resize):
    protocol = PROTOCOLS[name]
    assert (protocol.metric, protocol.num_samples, protocol.split, protocol.extractor,
            protocol.resize) == (metric, num, split, extractor, resize)
    assert protocol.comparable  # The docs' table says what it sits beside.
    assert protocol.settings()["num_samples"] == num


def test_unknown_protocol_gets_a_did_you_mean():
    assert parse_protocols(" fid10k, kid50k_full ") == ("fid10k", "kid50k_full")
    with pytest.raises(ConfigError, match="eval.protocols: unknown protocol 'kid50k'; did "
                                          "you mean 'kid50k_full'"):
        parse_protocols("kid50k")


def write_stats(path, mu, sigma, compressed=False):
    (np.savez_compressed if compressed else np.savez)(path, mu=mu, sigma=sigma)
    return str(path)


def test_pytorch_fid_and_clean_fid_statistics_files_are_read(tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(500, 6)), rng.normal(0.5, 1.5, size=(400, 6))
    stats = {name: (x.mean(0), np.cov(x, rowvar=False)) for name, x in (("a", a), ("b", b))}
    # pytorch-fid saves with np.savez, clean-fid with np.savez_compressed; both mu, sigma.
    first = images_lib.read_fid_statistics(write_stats(tmp_path / "a.npz", *stats["a"]), 6)
    second = images_lib.read_fid_statistics(
        write_stats(tmp_path / "b.npz", *stats["b"], compressed=True), 6)
    ours = M.frechet_distance(*first, *second)
    assert ours == pytest.approx(M.frechet_distance(*stats["a"], *stats["b"]), rel=1e-12)
    # Closed form for equal covariances: the squared distance of the means.
    same = images_lib.read_fid_statistics(write_stats(tmp_path / "c.npz", stats["a"][0] + 1.0,
                                                      stats["a"][1]), 6)
    assert M.frechet_distance(*first, *same) == pytest.approx(6.0, rel=1e-6)
    pytorch_fid = pytest.importorskip("pytorch_fid.fid_score",
                                      reason="pytorch-fid (and torch) is not installed")
    assert ours == pytest.approx(pytorch_fid.calculate_frechet_distance(
        *first, *second), rel=1e-6)
    cleanfid = pytest.importorskip("cleanfid.fid", reason="clean-fid is not installed")
    assert ours == pytest.approx(cleanfid.frechet_distance(*first, *second), rel=1e-6)


def test_statistics_files_that_do_not_fit_are_refused(tmp_path):
    path = write_stats(tmp_path / "s.npz", np.zeros(4), np.eye(4))
    with pytest.raises(ConfigError, match="holds 4-d statistics, but inception_v3 gives "
                                          "2048-d features"):
        images_lib.read_fid_statistics(path, 2048, "inception_v3")
    np.savez(tmp_path / "other.npz", mean=np.zeros(4))
    with pytest.raises(ConfigError, match="holds mean, not the mu and sigma"):
        images_lib.read_fid_statistics(str(tmp_path / "other.npz"))
    with pytest.raises(ConfigError, match="no such statistics file"):
        images_lib.read_fid_statistics(str(tmp_path / "none.npz"))
    write_stats(tmp_path / "bad.npz", np.zeros(4), np.eye(3))
    with pytest.raises(ConfigError, match="expected \\[d\\] and \\[d, d\\]"):
        images_lib.read_fid_statistics(str(tmp_path / "bad.npz"))


@pytest.fixture(scope="module")
def digit_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("protocols")
    data = write_digit_folder(root / "data", {"train": 24, "test": 12})
    config = tiny_image_config(data, num_steps=2)
    config.data.channels = 1
    config.train.checkpoint_every = 2
    config.train.sample_every = 0
    config.eval.cache_dir = str(root / "cache")
    train_and_evaluate(config, str(root / "run"))
    return str(root / "run"), root


def test_reference_statistics_written_here_are_read_back_as_published_ones(
        digit_run, tiny_classifier):
    """A reference cache holds mu and sigma too: given as eval.reference_stats, fd against it
    equals fd against the split it was computed from."""
    workdir, root = digit_run
    overrides = dict(metrics="fd", extractor="classifier", extractor_path=tiny_classifier[0],
                     num_samples=12, reference_split="test")
    first = evaluation.evaluate_workdir(workdir, overrides=overrides)
    cached = [p for p in (root / "cache").iterdir() if "test" in p.name]
    assert len(cached) == 1
    published = str(root / "published.npz")
    with np.load(cached[0]) as f:
        write_stats(published, f["mu"], f["sigma"])
    second = evaluation.evaluate_workdir(workdir, overrides={**overrides,
                                                             "reference_stats": published})
    name = [k for k in first["raw"] if k.startswith("fd_")][0]
    assert second["raw"][f"{name[: -len('_test')]}_stats-published"] == pytest.approx(
        first["raw"][name], rel=1e-9)


def test_protocols_share_one_pass_and_their_samples_are_prefixes(digit_run, tiny_classifier,
                                                                  monkeypatch):
    """Three protocols of one extractor: the samples are extracted once per generator, the
    smaller protocol's 8 samples are the first 8 of the 12, and fd is that of the features."""
    workdir, root = digit_run
    for name, protocol in {"fd12": Protocol("fd", 12, "train", "classifier", "", "x"),
                           "kid8": Protocol("kid", 8, "train", "classifier", "", "x"),
                           "is12": Protocol("is", 12, None, "classifier", "", "x")}.items():
        monkeypatch.setitem(PROTOCOLS, name, protocol)
    experiment, state = load_run(workdir, dict(protocols="fd12,kid8,is12",
                                               inception_path=tiny_classifier[0]))
    passes = []
    real_extract = evaluation.extract
    monkeypatch.setattr(evaluation, "extract", lambda *a, **k: passes.append(1) or
                        real_extract(*a, **k))
    results = evaluation.evaluate_protocols(experiment, state)
    assert len(passes) == 2  # One per generator; the reference comes from its own pass.
    assert set(results["settings"]) == {"fd12", "kid8", "is12"}
    params, g_state = experiment.generators(state)["raw"]
    stream = jax.random.fold_in(experiment.stream_key(evaluation.EVAL_STREAM),
                                evaluation.PROTOCOL_STREAM)
    twelve = np.concatenate(list(evaluation.protocol_batches(experiment, params, g_state, 12,
                                                             stream)))
    eight = np.concatenate(list(evaluation.protocol_batches(experiment, params, g_state, 8,
                                                            stream)))
    np.testing.assert_array_equal(eight, twelve[:8])
    extractor = build_extractor("classifier", tiny_classifier[0])
    fake = extractor(twelve).features.astype(np.float64)
    real = extractor(experiment.dataset.load()["images"]).features.astype(np.float64)
    expected = M.frechet_distance(fake.mean(0), np.cov(fake, rowvar=False), real.mean(0),
                                  np.cov(real, rowvar=False))
    assert results["raw"]["fd12"] == pytest.approx(expected, rel=1e-4)
    assert "kid8" in results["raw"] and "is12" in results["ema"]


def test_protocols_without_inception_weights_say_how_to_get_them(digit_run):
    workdir, _ = digit_run
    with pytest.raises(ConfigError, match="fid10k read InceptionV3 features: InceptionV3 "
                                          "weights .* convert them with scripts/convert_"
                                          "inception_weights.py .*--inception_path"):
        evaluation.evaluate_workdir(workdir, overrides=dict(protocols="fid10k"))
    with pytest.raises(ConfigError, match="eval.dinov2_path: fd_dinov2 read DINOv2 features: "
                                          "DINOv2 weights .*convert_dinov2_weights.py"):
        evaluation.evaluate_workdir(workdir, overrides=dict(protocols="fd_dinov2"))


def test_fid10k_with_inception_weights_records_what_it_computed(digit_run, tmp_path,
                                                                monkeypatch):
    """gan-evaluate's path with (random) InceptionV3 weights; fid10k shrunk to 12 samples so
    that Inception runs on a CPU in seconds. eval.json says what was computed."""
    import json
    import os

    from gan_jax.eval import inception
    from tests.eval.test_inception import synthetic_state_dict

    weights = str(tmp_path / "inception.npz")
    inception.save_npz(weights, synthetic_state_dict())
    monkeypatch.setitem(PROTOCOLS, "fid10k", Protocol("fd", 12, "test", comparable="x"))
    workdir, _ = digit_run
    results = evaluation.evaluate_workdir(workdir, overrides=dict(
        protocols="fid10k", inception_path=weights, metrics=""))
    protocols = results["protocols"]
    assert protocols["settings"]["fid10k"] == {
        "metric": "fd", "num_samples": 12, "reference_split": "test",
        "reference": "all of the split", "extractor": "inception_v3",
        "resize": "legacy_pytorch"}
    for generator in ("raw", "ema"):
        assert protocols[generator]["fid10k"] == protocols[generator][
            "fd_inception_v3_n12_test"] > 0
    with open(os.path.join(workdir, "eval.json")) as f:
        assert json.load(f)["protocols"]["raw"]["fid10k"] == protocols["raw"]["fid10k"]


def test_fd_dinov2_with_converted_weights_records_what_it_computed(digit_run, tmp_path,
                                                                   monkeypatch):
    """The DINOv2 protocol and metrics from a converted .npz (a test-sized ViT of random
    weights), the protocol shrunk to 12 samples: grey digits are read as RGB at 224."""
    from gan_jax.eval import dinov2
    from tests.eval.test_dinov2 import random_state_dict

    weights = str(tmp_path / "dinov2.npz")
    dinov2.save_npz(weights, random_state_dict())
    for name, metric in (("fd_dinov2", "fd"), ("dc_dinov2", "dc")):
        monkeypatch.setitem(PROTOCOLS, name, Protocol(metric, 12, "train", "dinov2",
                                                      "pil_bicubic", "x"))
    workdir, _ = digit_run
    results = evaluation.evaluate_workdir(workdir, overrides=dict(
        protocols="fd_dinov2,dc_dinov2", dinov2_path=weights, metrics="fd,kid", extractor="dinov2",
        extractor_path=weights, num_samples=12))
    assert results["protocols"]["settings"]["fd_dinov2"] == {
        "metric": "fd", "num_samples": 12, "reference_split": "train",
        "reference": "all of the split", "extractor": "dinov2", "resize": "pil_bicubic"}
    for generator in ("raw", "ema"):
        value = results["protocols"][generator]["fd_dinov2"]
        assert value == results["protocols"][generator]["fd_dinov2_n12_train"] > 0
        density = results["protocols"][generator]["dc_dinov2"]
        assert density == results["protocols"][generator]["density_dinov2_n12_train"] >= 0
        assert 0 <= results["protocols"][generator]["coverage_dinov2_n12_train"] <= 1
        # The run's own metrics, in the same features against its configured (test) split.
        assert results[generator]["fd_dinov2_n12_test"] > 0
        assert results[generator]["kid_dinov2_n12_test_std"] >= 0
