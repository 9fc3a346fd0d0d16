"""Data parallelism: the pmapped step against the jitted one, on simulated CPU devices.

Devices are simulated with XLA_FLAGS=--xla_force_host_platform_device_count=N, which must be
set before JAX starts, so multi-device runs happen in subprocesses; the single-device
reference runs in this process.
"""

from __future__ import annotations

import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax import models
from gan_jax.config.registry import ConfigError
from gan_jax.models.latent import sample_latent
from gan_jax.runs.loop import train_and_evaluate
from gan_jax.training.experiment import build_experiment
from gan_jax.training.parallel import AXIS, ParallelPlan, plan_from_config
from gan_jax.training.step import StepSettings, make_train_step
from gan_jax.training.update import device_rows
from tests.helpers import load_state, tiny_image_config, tiny_stylegan_config, xla_flags

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAIN_FROM_JSON = """
import json, sys
from gan_jax import config as config_lib
from gan_jax import models
from gan_jax.runs.loop import train_and_evaluate
with open(sys.argv[1]) as f:
    train_and_evaluate(config_lib.from_json(f.read()), sys.argv[2])
"""


def train_on_devices(config, workdir: str, num_devices: int) -> subprocess.CompletedProcess:
    path = os.path.join(os.path.dirname(workdir), f"{os.path.basename(workdir)}.json")
    with open(path, "w") as f:
        f.write(config_lib.to_json(config))
    env = {**os.environ, "PYTHONPATH": REPO, "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": xla_flags(f"--xla_force_host_platform_device_count={num_devices}")}
    return subprocess.run([sys.executable, "-c", TRAIN_FROM_JSON, path, workdir], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=600)

# Trains a config for 3 steps under pmap or mesh over every device, checks that pmap's replicas
# hold the same state (or that the mesh state keeps its planned layout), and prints the largest
# relative difference from the jitted run on one device.
PARALLEL_AGAINST_JIT = """
import sys
import jax, numpy as np
from gan_jax import config as config_lib
from gan_jax.training.experiment import build_experiment
from gan_jax.training.parallel import compile_run, state_shardings
from gan_jax.training.update import make_multi_step
from tests.training.test_parallel import max_relative_difference

config = config_lib.from_json(open(sys.argv[1]).read())
finals = {}
for mode in (sys.argv[2], "jit"):
    config.train.parallel = mode
    config.train.shard_params = mode == "mesh" and sys.argv[3] == "sharded"
    experiment = build_experiment(config)
    run, state, data, host_view = compile_run(make_multi_step(experiment.train_step()),
                                              experiment.plan, experiment.init_state(),
                                              experiment.device_data())
    for _ in range(3):
        state, _ = run(state, data, 1)
    if mode == "pmap":
        for leaf in jax.tree.leaves(state):
            copies = np.asarray(leaf)
            assert (copies == copies[:1]).all(), "replicas differ"
    if mode == "mesh":
        planned = state_shardings(host_view(state), experiment.plan)
        for leaf, sharding in zip(jax.tree.leaves(state), jax.tree.leaves(planned)):
            assert leaf.sharding.is_equivalent_to(sharding, leaf.ndim), (leaf.sharding, sharding)
        split = sum(not leaf.sharding.is_fully_replicated for leaf in jax.tree.leaves(state))
        print("sharded arrays", split)
    finals[mode] = host_view(state)
print("difference", max_relative_difference(finals["jit"], finals[sys.argv[2]]))
"""


def parallel_against_jit(config, tmp_path, num_devices: int, mode: str = "pmap",
                         layout: str = "replicated") -> tuple[float, str]:
    """Runs PARALLEL_AGAINST_JIT on `num_devices` simulated devices: (the relative difference,
    what it printed)."""
    path = str(tmp_path / "config.json")
    with open(path, "w") as f:
        f.write(config_lib.to_json(config))
    env = {**os.environ, "PYTHONPATH": REPO, "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": xla_flags(f"--xla_force_host_platform_device_count={num_devices}")}
    done = subprocess.run([sys.executable, "-c", PARALLEL_AGAINST_JIT, path, mode, layout],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return float(done.stdout.split("difference")[-1]), done.stdout


def pmap_against_jit(config, tmp_path, num_devices: int) -> float:
    return parallel_against_jit(config, tmp_path, num_devices)[0]


def max_relative_difference(a, b) -> float:
    worst = 0.0
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        x, y = np.asarray(x), np.asarray(y)
        if x.dtype.kind != "f":
            np.testing.assert_array_equal(x, y)  # Step counters, keys.
            continue
        worst = max(worst, float(np.max(np.abs(x - y)) / (np.max(np.abs(x)) + 1e-12)))
    return worst


def test_ring_on_four_devices_matches_one_device(make_config, tmp_path):
    config = make_config(num_steps=200)
    config.train.batch_size = 64
    single = str(tmp_path / "jit")
    train_and_evaluate(config, single)
    config.train.parallel = "pmap"
    done = train_on_devices(config, str(tmp_path / "pmap"), 4)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "pmap over 4 devices, 16 examples each" in done.stderr
    # 200 Adam steps; float32 sums in another order differ by ~1e-7 relative.
    assert max_relative_difference(load_state(single), load_state(str(tmp_path / "pmap"))) < 1e-5


def test_mesh_with_batch_norm_spectral_norm_attention_packing_and_diff_augment(
        image_folder, tmp_path):
    """The mesh step is the one-device program partitioned by XLA: BatchNorm over the global
    batch, packs, attention and DiffAugment give the one-device numbers on 4 devices."""
    config = tiny_image_config(image_folder)
    config.model.generator.attention = 4
    config.model.discriminator.update(dict(spectral_norm="all", attention=4))
    config.model.packing = 2
    config.train.diff_augment = "color,translation,cutout"
    for player in (config.optim.g, config.optim.d):
        player.name, player.lr = "sgd", 0.01  # See the pmap test below.
    assert parallel_against_jit(config, tmp_path, 4, "mesh")[0] < 1e-4


def test_dcgan_with_cross_replica_batch_norm_spectral_norm_attention_and_diff_augment(
        image_folder, tmp_path):
    """On 4 devices: BatchNorm in G (statistics over the global batch), power-iteration
    vectors identical on every replica, and DiffAugment (drawn for the global batch) and
    attention give the one-device numbers."""
    config = tiny_image_config(image_folder)
    config.model.generator.attention = 4
    config.model.discriminator.update(dict(spectral_norm="all", attention=4))
    config.train.diff_augment = "color,translation,cutout"
    # Plain SGD: Adam's first steps divide by tiny gradient magnitudes, which turns
    # reduction-order noise into differences of order the learning rate.
    for player in (config.optim.g, config.optim.d):
        player.name, player.lr = "sgd", 0.01
    assert pmap_against_jit(config, tmp_path, 4) < 1e-4


def test_stylegan_on_two_devices_matches_one_device(image_folder, tmp_path):
    """Mixing and noise come from per-example keys of the global batch, the average w spans
    the devices, and minibatch-stddev groups (4 examples) stay on one device."""
    config = tiny_stylegan_config(image_folder)
    for player in (config.optim.g, config.optim.d):
        player.name, player.lr = "sgd", 0.01  # See the DCGAN test above.
    assert pmap_against_jit(config, tmp_path, 2) < 1e-4


def test_batch_that_does_not_divide_is_rejected_before_compiling(make_config, tmp_path):
    config = make_config(num_steps=10)
    config.train.batch_size = 30
    done = train_on_devices(config, str(tmp_path / "run"), 4)
    assert done.returncode != 0
    assert "train.batch_size=30 does not divide evenly over 4 devices" in done.stderr


def test_plan_on_one_device(make_config):
    from gan_jax.config import validate

    config = make_config()
    train = config.train
    assert plan_from_config(train).mode == "jit"
    train.parallel = "pmap"
    plan = plan_from_config(train)
    assert plan.mode == "pmap" and plan.num_replicas == 1
    train.parallel = "shard"
    with pytest.raises(ConfigError, match="train.parallel: must be one of auto, jit, pmap"):
        validate(config)


def test_each_device_takes_its_own_rows_of_the_global_batch():
    settings = StepSettings(batch_size=8, n_disc=1, latent_dim=3, latent_dist="normal",
                            ema_decay=0.0, axis_name=AXIS, num_replicas=4)
    z = sample_latent(jax.random.PRNGKey(0), 8, 3, "normal")
    # vmap with an axis name stands in for 4 devices.
    rows = jax.vmap(lambda _: device_rows(z, settings), axis_name=AXIS)(jnp.zeros(4))
    assert rows.shape == (4, 2, 3)
    assert len({tuple(np.asarray(r).ravel()) for r in rows}) == 4  # Different noise each.
    np.testing.assert_array_equal(rows.reshape(8, 3), z)  # Together: the global batch.


@pytest.mark.parametrize("batch_norm", ["cross_replica", "per_device"])
def test_vmapped_dcgan_batch_norm_modes(image_folder, batch_norm):
    """One DCGAN step over an axis of 4 replicas (vmap): cross-replica BatchNorm computes what
    one device computes on the global batch; per-device BatchNorm (2 examples each) does not,
    but its replicas still end identical, running statistics included."""
    config = config_lib.with_seed(tiny_image_config(image_folder))
    config.train.batch_norm = batch_norm
    experiment = build_experiment(config)
    state, data = experiment.init_state(), experiment.device_data()
    single_state, _ = jax.jit(experiment.train_step())(state, data)
    plan = ParallelPlan("pmap", 4, batch_norm == "cross_replica")
    settings = StepSettings.from_config(config, plan)
    generator = models.build_generator(config.model.generator, experiment.dataset.example_shape,
                                       plan.bn_axis_name)
    discriminator = models.build_discriminator(config.model.discriminator, plan.bn_axis_name)
    step = make_train_step(generator, discriminator, experiment.loss, experiment.g_tx,
                           experiment.d_tx, settings, experiment.dataset.sample)
    states, _ = jax.jit(jax.vmap(step, in_axes=(None, None), axis_name=AXIS,
                                 axis_size=4))(state, data)
    first = jax.tree.map(lambda x: x[0], states)
    for replica in range(1, 4):
        assert max_relative_difference(first, jax.tree.map(lambda x, r=replica: x[r],
                                                           states)) < 1e-6
    difference = max_relative_difference(single_state, first)
    if batch_norm == "cross_replica":
        assert difference < 1e-4
    else:
        assert difference > 1e-2


def test_vmapped_replicas_stay_identical_and_match_one_device(make_config):
    """The step under an axis of 4 replicas (vmap) updates every replica the same way, and
    as the single-device step does on the same global batch."""
    config = make_config()
    config.train.batch_size = 16
    config.seed = 0
    experiment = build_experiment(config)
    state = experiment.init_state()
    single_state, single_metrics = jax.jit(experiment.train_step())(state, {})
    settings = StepSettings.from_config(config, ParallelPlan("pmap", 4, True))
    step = make_train_step(experiment.generator, experiment.discriminator, experiment.loss,
                           experiment.g_tx, experiment.d_tx, settings, experiment.dataset.sample)
    states, metrics = jax.jit(jax.vmap(step, in_axes=(None, None), axis_name=AXIS,
                                       axis_size=4))(state, {})
    for replica in range(1, 4):
        assert max_relative_difference(jax.tree.map(lambda x: x[0], states),
                                       jax.tree.map(lambda x, r=replica: x[r], states)) == 0
    assert max_relative_difference(single_state, jax.tree.map(lambda x: x[0], states)) < 1e-5
    np.testing.assert_allclose(metrics["d_loss"][0], single_metrics["d_loss"], rtol=1e-5)
