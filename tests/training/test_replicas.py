"""Vectorised seeds: replica k of a vmapped run is the separate run of seed + k."""

from __future__ import annotations

import json
import os

import jax
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax.config.registry import ConfigError
from gan_jax.runs.loop import train_and_evaluate
from gan_jax.runs.rundir import load_run
from gan_jax.training import replicas as replicas_lib
from tests.helpers import load_state, tiny_image_config


def assert_close_states(a, b) -> None:
    """Equal up to the order of float32 reductions: vmap batches the matmuls, which may sum in
    another order (about 1e-7 relative per step); over a few hundred steps of a small model
    this stays below 1e-5 relative, far below any real difference between seeds (order 1)."""
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-5, atol=1e-6)


def read_json(path) -> dict:
    with open(path) as f:
        return json.load(f)


def test_each_replica_is_the_run_of_its_seed(tmp_path, make_config):
    config = make_config(seed=5, num_steps=100)
    config.train.num_seeds = 3
    half = config.copy_and_resolve_references()
    half.train.num_steps = 50  # Stop halfway, then resume: the stacked state restores.
    half.train.checkpoint_every = 50
    train_and_evaluate(half, str(tmp_path / "vmapped"))
    summary = train_and_evaluate(config, str(tmp_path / "vmapped"))
    assert summary["num_seeds"] == 3 and sorted(summary["seeds"]) == ["5", "6", "7"]
    alone = train_and_evaluate(make_config(seed=6, num_steps=100), str(tmp_path / "alone"))

    stacked = load_state(str(tmp_path / "vmapped"))
    assert stacked.step.shape == (3,)
    assert_close_states(replicas_lib.unstack(stacked, 1), load_state(str(tmp_path / "alone")))
    # Different seeds really differ, so the comparison above can fail.
    first = np.asarray(jax.tree.leaves(replicas_lib.unstack(stacked, 0).g_params)[0])
    second = np.asarray(jax.tree.leaves(replicas_lib.unstack(stacked, 1).g_params)[0])
    assert np.max(np.abs(first - second)) > 1e-2

    replica_dir = tmp_path / "vmapped" / "seed_6"
    assert read_json(replica_dir / "config.json") == read_json(tmp_path / "alone" / "config.json")
    assert read_json(replica_dir / "eval.json")["raw"]["modes"] == alone["raw"]["modes"]
    assert summary["seeds"]["6"] == read_json(replica_dir / "eval.json")
    with open(replica_dir / "metrics.jsonl") as f:
        logged = [json.loads(line) for line in f]
    with open(tmp_path / "alone" / "metrics.jsonl") as f:
        logged_alone = [json.loads(line) for line in f]
    assert [r["step"] for r in logged] == [r["step"] for r in logged_alone]
    np.testing.assert_allclose(logged[-1]["d_loss"], logged_alone[-1]["d_loss"], rtol=1e-4)
    assert os.listdir(replica_dir / "samples")

    # A seed's directory can be loaded like a run (gan-evaluate, gan-sample).
    experiment, state = load_run(str(replica_dir))
    assert experiment.config.seed == 6
    assert_close_states(state, replicas_lib.unstack(stacked, 1))
    with pytest.raises(ConfigError, match="name one of its replica directories"):
        load_run(str(tmp_path / "vmapped"))


def test_image_replicas_each_read_their_own_data_order(tmp_path, image_folder):
    """BatchNorm statistics and the shuffled batches are per replica, as in separate runs."""
    config = tiny_image_config(image_folder, num_steps=10, seed=3)
    config.train.num_seeds = 2
    train_and_evaluate(config, str(tmp_path / "vmapped"))
    train_and_evaluate(tiny_image_config(image_folder, num_steps=10, seed=4),
                       str(tmp_path / "alone"))
    stacked = load_state(str(tmp_path / "vmapped"))
    assert_close_states(replicas_lib.unstack(stacked, 1), load_state(str(tmp_path / "alone")))


def test_vectorised_seeds_need_one_device(make_config):
    config = make_config(seed=0)
    config.train.num_seeds = 2
    config.train.parallel = "pmap"
    with pytest.raises(ConfigError, match="train.num_seeds=2: vectorised replicas run on one"):
        replicas_lib.build_replicas(config)
    config.train.num_seeds = 0
    with pytest.raises(ConfigError, match="train.num_seeds"):
        config_lib.validate(config)
