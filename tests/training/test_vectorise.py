"""Vectorised hyperparameters: replicas that differ in scalars, trained as one program."""

from __future__ import annotations

import json
import os

import jax
import numpy as np
import pytest

from gan_jax.commands.report import report
from gan_jax.config.registry import ConfigError
from gan_jax.runs.loop import train_and_evaluate
from gan_jax.runs.rundir import load_run
from gan_jax.training import replicas as replicas_lib
from gan_jax.training import vectorise
from gan_jax.training.checks import validate
from tests.helpers import load_state, tiny_config
from tests.training.test_replicas import assert_close_states

GAMMAS = (0.0, 0.1, 1.0, 10.0)


def gamma_sweep(num_steps: int):
    """4 values of R1's gamma x 2 seeds, checkpointed halfway."""
    config = tiny_config(num_steps=num_steps, seed=3)
    config.train.vectorise = f"loss.r1_weight={','.join(map(str, GAMMAS))}"
    config.train.num_seeds = 2
    config.train.checkpoint_every = num_steps // 2
    return config


def alone(gamma: float, seed: int, num_steps: int):
    config = tiny_config(num_steps=num_steps, seed=seed)
    config.loss.r1_weight = gamma
    config.train.checkpoint_every = num_steps // 2
    return config


def test_a_gamma_sweep_is_one_program_of_eight_runs(tmp_path):
    """4 x 2 replicas: eight run directories, each the run of its own setting (even gamma=0,
    where the program computes R1 and weights it 0), and a report over them."""
    workdir = str(tmp_path / "sweep")
    summary = train_and_evaluate(gamma_sweep(100), workdir)
    names = sorted(summary["replicas"])
    assert len(names) == 8 and "loss.r1_weight=10.0,seed=4" in names
    stacked = load_state(workdir)
    assert stacked.step.shape == (8,)
    for gamma, seed in ((0.0, 3), (10.0, 4)):
        index = GAMMAS.index(gamma) * 2 + seed - 3
        train_and_evaluate(alone(gamma, seed, 100), str(tmp_path / f"alone_{gamma}"))
        assert_close_states(replicas_lib.unstack(stacked, index),
                            load_state(str(tmp_path / f"alone_{gamma}")))
        replica_dir = os.path.join(workdir, f"loss.r1_weight={gamma},seed={seed}")
        with open(os.path.join(replica_dir, "config.json")) as f:
            saved = json.load(f)
        assert saved["loss"]["r1_weight"] == gamma and saved["seed"] == seed
        assert saved["train"]["vectorise"] == "" and saved["train"]["num_seeds"] == 1
        experiment, state = load_run(replica_dir)  # gan-evaluate and gan-sample read it so.
        assert experiment.config.loss.r1_weight == gamma
        assert_close_states(state, replicas_lib.unstack(stacked, index))
    # The gammas really change the run, so the comparisons above can fail.
    weak, strong = (replicas_lib.unstack(stacked, i).d_params for i in (0, 6))
    assert max(float(np.max(np.abs(a - b))) for a, b in
               zip(jax.tree.leaves(weak), jax.tree.leaves(strong), strict=True)) > 1e-2

    markdown, table = report(workdir)
    lines = table.strip().splitlines()
    assert lines[0].split(",")[0] == "loss.r1_weight" and len(lines) == 1 + 4
    assert all(line.split(",")[1] == "2" for line in lines[1:])  # Two seeds a row.
    assert "10.0" in markdown


def test_learning_rates_betas_and_ema_vary_together(tmp_path):
    """Scalars of the optimizers and the EMA, in a product: a replica equals its run."""
    config = tiny_config(num_steps=50, seed=1)
    config.train.vectorise = "optim.g.lr=0.001,0.003 optim.d.b1=0.0,0.5 train.ema_decay=0.9,0.99"
    train_and_evaluate(config, str(tmp_path / "sweep"))
    stacked = load_state(str(tmp_path / "sweep"))
    single = tiny_config(num_steps=50, seed=1)
    single.optim.g.lr, single.optim.d.b1, single.train.ema_decay = 0.003, 0.0, 0.99
    train_and_evaluate(single, str(tmp_path / "alone"))
    assert_close_states(replicas_lib.unstack(stacked, 1 * 4 + 0 * 2 + 1),
                        load_state(str(tmp_path / "alone")))


def test_resume_is_bit_exact_for_every_replica(tmp_path):
    straight = str(tmp_path / "straight")
    train_and_evaluate(gamma_sweep(60), straight)
    resumed = str(tmp_path / "resumed")
    half = gamma_sweep(60)
    half.train.num_steps = 30
    train_and_evaluate(half, resumed)
    train_and_evaluate(gamma_sweep(60), resumed)
    a, b = load_state(straight), load_state(resumed)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.parametrize("setting, message", [
    ("model.generator.hidden_dim=16,32", "model.generator.hidden_dim cannot vary within one "
                                         "compiled program"),
    ("loss.name=ns", "loss.name cannot vary"),
    ("loss.r1_wieght=1,2", "unknown config key 'loss.r1_wieght'; did you mean 'loss.r1_weight'"),
    ("loss.r1_weight=1,-1", r"replica loss.r1_weight=-1.0: loss.r1_weight: must be >= 0"),
    ("loss.r1_weight=1,x", "loss.r1_weight value 'x' is not a number"),
    ("loss.r1_weight", r"'loss.r1_weight' is not key=value,value"),
    ("loss.r1_weight=1,1", "lists a value twice"),
    ("loss.r1_weight=1 loss.r1_weight=2", "listed twice"),
    ("ada.target=0,0.6", "mixes 0"),
])
def test_bad_vectorise_settings_get_one_line(setting, message):
    config = tiny_config()
    config.train.vectorise = setting
    with pytest.raises(ConfigError, match=message):
        validate(config)  # Every entry point runs this before building or compiling.


def test_seeds_listed_or_counted_but_not_both():
    config = tiny_config(seed=0)
    config.train.vectorise = "seed=0,5,9 loss.r1_weight=0.1,1"
    # In the order listed, the last key fastest.
    assert [o["seed"] for o in vectorise.replica_overrides(config)] == [0, 0, 5, 5, 9, 9]
    assert vectorise.replica_names(config)[1] == "seed=0,loss.r1_weight=1.0"
    config.train.num_seeds = 2
    with pytest.raises(ConfigError, match="lists seeds, and train.num_seeds=2"):
        validate(config)


def test_only_seeds_keep_their_directory_names():
    config = tiny_config(seed=4)
    config.train.num_seeds = 2
    assert vectorise.replica_names(config) == ["seed_4", "seed_5"]


def test_replicas_spread_over_devices_match_one_device(tmp_path):
    """train.parallel=replicas: 8 replicas, 4 whole on each of 2 devices."""
    from tests.training.test_parallel import train_on_devices

    config = gamma_sweep(50)
    one = str(tmp_path / "one")
    train_and_evaluate(config, one)
    config.train.parallel = "replicas"
    done = train_on_devices(config, str(tmp_path / "two"), 2)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "8 replicas spread over 2 devices, 4 on each" in done.stderr
    assert_close_states(load_state(one), load_state(str(tmp_path / "two")))
    assert sorted(os.listdir(tmp_path / "two")) == sorted(os.listdir(one))


def test_replicas_mode_needs_replicas_that_divide(tmp_path):
    from gan_jax.training.checks import check_seeds
    from gan_jax.training.parallel import ParallelPlan

    config = tiny_config(seed=0)
    config.train.parallel = "replicas"
    plan = ParallelPlan("replicas", 1, False, replica_devices=3)
    with pytest.raises(ConfigError, match="'replicas' spreads a vectorised run's replicas"):
        check_seeds(config, plan)
    config.train.vectorise = "loss.r1_weight=0.1,1"
    with pytest.raises(ConfigError, match="2 replicas do not divide over 3 devices"):
        check_seeds(config, plan)
    config.train.parallel = "pmap"
    with pytest.raises(ConfigError, match="train.vectorise: vectorised replicas run on one"):
        check_seeds(config, ParallelPlan("pmap", 2, False))
