"""Two processes joined by jax.distributed on localhost, each with 2 simulated CPU devices:
training, checkpoints and resumption, against one process on one device."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

from gan_jax import config as config_lib
from gan_jax.runs.loop import train_and_evaluate
from tests.helpers import assert_states_identical, load_state, xla_flags
from tests.training.test_parallel import REPO, max_relative_difference

TRAIN = """
import sys
from gan_jax.cli import train_main
sys.argv = ["gan-train"] + sys.argv[1:]
train_main()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def train_two_processes(config, workdir: str, mode: str = "pmap") -> None:
    """Runs `config` in 2 processes of 2 devices each and waits for both."""
    path = f"{workdir}.py"
    with open(path, "w") as f:
        f.write("from gan_jax import config as c\n"
                f"def get_config():\n    return c.from_json({config_lib.to_json(config)!r})\n")
    env = {**os.environ, "PYTHONPATH": REPO, "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": xla_flags("--xla_force_host_platform_device_count=2")}
    port = _free_port()
    processes = [
        subprocess.Popen([sys.executable, "-c", TRAIN, "--config", path, "--workdir", workdir,
                          "--coordinator_address", f"localhost:{port}", "--num_processes", "2",
                          "--process_id", str(i)],
                         cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
        for i in range(2)
    ]
    outputs = [p.communicate(timeout=600) for p in processes]
    for p, (_, err) in zip(processes, outputs, strict=True):
        assert p.returncode == 0, err[-3000:]
    assert f"{mode} over 4 devices, 16 examples each" in outputs[0][1]
    assert f"{mode} over" not in outputs[1][1]  # Only process 0 reports.


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from tests.helpers import tiny_config

    root = tmp_path_factory.mktemp("multihost")
    config = tiny_config(num_steps=200)
    config.train.batch_size = 64
    config.train.parallel = "auto"
    uninterrupted = str(root / "uninterrupted")
    train_two_processes(config, uninterrupted)
    # The same run as if every process had died after checkpointing step 100: its workdir
    # without what came later, restarted with the same command.
    resumed = str(root / "resumed")
    shutil.copytree(uninterrupted, resumed)
    shutil.rmtree(os.path.join(resumed, "checkpoints", "200"))
    os.remove(os.path.join(resumed, "eval.json"))
    train_two_processes(config, resumed)
    return config, uninterrupted, resumed, root


def test_two_processes_resume_exactly(runs):
    _, uninterrupted, resumed, _ = runs
    assert sorted(os.listdir(os.path.join(resumed, "checkpoints"))) == ["100", "200"]
    assert_states_identical(load_state(uninterrupted), load_state(resumed))
    # Process 0 alone wrote the logs: one record per logging step, the resumed run's records
    # after step 100 replacing the dead run's.
    for workdir in (uninterrupted, resumed):
        with open(os.path.join(workdir, "metrics.jsonl")) as f:
            assert [json.loads(line)["step"] for line in f] == [50, 100, 150, 200]
    with open(os.path.join(resumed, "eval.json")) as f:
        assert json.load(f)["step"] == 200


def test_two_processes_match_one_device(runs):
    config, uninterrupted, _, root = runs
    config.train.parallel = "jit"
    single = str(root / "single")
    train_and_evaluate(config, single)
    assert max_relative_difference(load_state(single), load_state(uninterrupted)) < 1e-5


def test_checkpoint_of_four_devices_resumes_on_one(runs):
    config, uninterrupted, resumed, root = runs
    on_one = str(root / "on_one")
    os.makedirs(on_one)
    shutil.copytree(os.path.join(resumed, "checkpoints"), os.path.join(on_one, "checkpoints"))
    shutil.copy(os.path.join(resumed, "config.json"), on_one)
    shutil.rmtree(os.path.join(on_one, "checkpoints", "200"))
    config.train.parallel = "jit"
    train_and_evaluate(config, on_one)  # Resumes from step 100 on this process's 1 device.
    assert max_relative_difference(load_state(on_one), load_state(uninterrupted)) < 1e-5


def test_two_processes_on_a_mesh_with_sharded_state_match_one_device(tmp_path):
    """The mesh spans both processes' 4 devices; hidden layers of 128 x 128 are split over
    them, and gathered for checkpoints and evaluation. (The one-process mesh is tested on 4
    devices in test_parallel.)"""
    from tests.helpers import tiny_config

    config = tiny_config(num_steps=50)
    config.train.batch_size = 64
    config.model.generator.hidden_dim = config.model.discriminator.hidden_dim = 128
    single = str(tmp_path / "single")
    train_and_evaluate(config, single)
    config.train.parallel, config.train.shard_params = "mesh", True
    meshed = str(tmp_path / "mesh")
    train_two_processes(config, meshed, "mesh")
    assert max_relative_difference(load_state(single), load_state(meshed)) < 1e-5
    with open(os.path.join(single, "eval.json")) as a, open(os.path.join(meshed, "eval.json")) as b:
        single_eval, mesh_eval = json.load(a), json.load(b)
    assert single_eval["raw"]["modes"] == mesh_eval["raw"]["modes"]
