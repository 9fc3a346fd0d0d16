"""Sweeps: expansion, naming, up-front checks, failure isolation and resuming a killed sweep."""

from __future__ import annotations

import glob
import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from gan_jax.commands import sweep as sweep_lib
from gan_jax.commands.sweep import product, sweep, trial_name, zipped
from gan_jax.config import naming
from gan_jax.config.registry import ConfigError
from tests.conftest import REPO

# A tiny ring config, written into each sweep file so worker processes need no test code.
TINY_CONFIG = """
from configs import mog

def get_config():
    config = mog.get_config()
    config.seed = 0
    for player in (config.model.generator, config.model.discriminator):
        player.hidden_dim = 16
        player.depth = 2
    config.train.batch_size = 32
    config.train.num_steps = {num_steps}
    config.train.steps_per_call = 50
    config.train.log_every = 100
    config.train.sample_every = 0
    config.train.checkpoint_every = 100
    config.train.progress_bar = False
    config.eval.num_samples = 200
    return config
"""


def write_sweep(tmp_path, body: str, num_steps: int = 100) -> str:
    path = tmp_path / "sweep.py"
    path.write_text("from gan_jax.commands.sweep import product, sweep, zipped\n"
                    + TINY_CONFIG.format(num_steps=num_steps) + textwrap.dedent(body))
    return str(path)


def run_cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, os.path.join(REPO, "scripts", "sweep.py"), *args],
        capture_output=True, text=True, cwd=REPO, timeout=300, **kwargs)


def test_product_varies_the_last_sweep_fastest():
    trials = product(sweep("optim.d.lr", [1e-4, 3e-4]), sweep("seed", range(3)))
    assert trials == [
        {"optim.d.lr": 1e-4, "seed": 0}, {"optim.d.lr": 1e-4, "seed": 1},
        {"optim.d.lr": 1e-4, "seed": 2}, {"optim.d.lr": 3e-4, "seed": 0},
        {"optim.d.lr": 3e-4, "seed": 1}, {"optim.d.lr": 3e-4, "seed": 2},
    ]


def test_zipped_pairs_values_and_nests_in_products():
    lrs = zipped(sweep("optim.g.lr", [1e-3, 1e-4]), sweep("optim.d.lr", [2e-3, 2e-4]))
    assert lrs == [{"optim.g.lr": 1e-3, "optim.d.lr": 2e-3},
                   {"optim.g.lr": 1e-4, "optim.d.lr": 2e-4}]
    trials = product(lrs, sweep("seed", [0, 1]))
    assert len(trials) == 4
    assert trials[3] == {"optim.g.lr": 1e-4, "optim.d.lr": 2e-4, "seed": 1}


def test_expansion_errors():
    with pytest.raises(ValueError, match="different lengths"):
        zipped(sweep("seed", [0, 1]), sweep("optim.d.lr", [1e-3]))
    with pytest.raises(ValueError, match="two sweeps set 'seed'"):
        product(sweep("seed", [0]), sweep("seed", [1]))
    with pytest.raises(ValueError, match="no values"):
        sweep("seed", [])


def test_trial_names_spell_the_overrides():
    assert trial_name({"optim.d.lr": 3e-4, "seed": 2}) == "optim.d.lr=0.0003,seed=2"
    assert trial_name({"optim.d.lr": 1e-5}) == "optim.d.lr=1e-05"
    assert trial_name({"loss.name": "hinge", "train.progress_bar": False}) == (
        "loss.name=hinge,train.progress_bar=False")
    assert trial_name({"data.path": "/data/my images"}) == "data.path=_data_my_images"
    assert trial_name({}) == "base"


def test_long_trial_names_are_cut_but_stay_unique():
    a = trial_name({"data.path": "x" * 300 + "a"})
    b = trial_name({"data.path": "x" * 300 + "b"})
    assert len(a) == len(b) == naming.MAX_NAME_LENGTH
    assert a != b


def test_sweep_file_names_its_trials_and_configs(tmp_path):
    path = write_sweep(tmp_path, """
        def get_sweep():
            return product(sweep("optim.d.lr", [1e-3, 3e-4]), sweep("seed", [0, 1]))
    """)
    s = sweep_lib.Sweep(path)
    assert len(s) == 4
    assert s.names[1] == "optim.d.lr=0.001,seed=1"
    assert s.configs[2].optim.d.lr == 3e-4 and s.configs[2].seed == 0
    assert s.configs[2].optim.g.lr == 1e-3  # Untouched keys keep the base config's values.
    assert s.trial_dir("w", 3) == os.path.join("w", "optim.d.lr=0.0003,seed=1")


STUDY_FILES = sorted(
    os.path.relpath(path, REPO)
    for path in glob.glob(os.path.join(REPO, "experiments", "*", "*.py"))
    if "def get_sweep" in pathlib.Path(path).read_text())


@pytest.mark.parametrize("study", STUDY_FILES)
def test_every_study_in_experiments_checks_out(study):
    """The sweeps the study reports quote stay runnable as the config schema moves."""
    try:
        s = sweep_lib.Sweep(os.path.join(REPO, study))
    except ConfigError as error:  # A checkout without ../shared/datasets, offline.
        if "cannot be downloaded" not in str(error):
            raise
        pytest.skip(f"{study} reads a dataset this machine lacks and tests do not download")
    assert len(s) == len(set(s.names)) > 0


@pytest.mark.parametrize("trials, message", [
    ('[{"optim.d.lrr": 1e-3}]', "unknown config key 'optim.d.lrr'; did you mean 'optim.d.lr'"),
    ('[{"optim.dd.lr": 1e-3}]', "unknown config section 'optim.dd'; did you mean 'optim.d'"),
    ('[{"seed": 0}, {"model.latent_dim": "two"}]', "'model.latent_dim'"),
    ('[{"seed": 0}, {"train.n_disc": 0}]', r"trial 1 \(train.n_disc=0\): train.n_disc"),
    ('[{"model.generator.widht": 3}]', "widht"),
    ('[{"loss.name": "hinje"}]', "did you mean 'hinge'"),
    ('[{"seed": 0}, {"seed": 0}]', "several trials are named 'seed=0'"),
])
def test_bad_trials_fail_the_whole_sweep_up_front(tmp_path, trials, message):
    path = write_sweep(tmp_path, f"def get_sweep():\n    return {trials}\n")
    with pytest.raises(ConfigError, match=message):
        sweep_lib.Sweep(path)


def test_base_config_from_the_sweep_file_or_the_command_line(tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    (study / "config.py").write_text(TINY_CONFIG.format(num_steps=7))
    (study / "sweep.py").write_text(
        'CONFIG = "config.py"\n\ndef get_sweep():\n    return [{"seed": 3}]\n')
    assert sweep_lib.Sweep(str(study / "sweep.py")).configs[0].train.num_steps == 7
    (study / "bare.py").write_text('def get_sweep():\n    return [{"seed": 3}]\n')
    with pytest.raises(ConfigError, match="names no base config"):
        sweep_lib.Sweep(str(study / "bare.py"))
    s = sweep_lib.Sweep(str(study / "bare.py"), config="configs/mog.py:grid")
    assert s.configs[0].data.name == "grid"


def test_command_line_overrides_apply_to_every_trial_under_their_own(tmp_path):
    path = write_sweep(tmp_path, """
        def get_sweep():
            return [{"seed": 1}, {"seed": 2, "train.num_steps": 9}]
    """)
    common = {"train.num_steps": 5, "optim.d.lr": 3e-4}
    configs = sweep_lib.Sweep(path, common=common).configs
    assert [c.train.num_steps for c in configs] == [5, 9]  # A trial's own override wins.
    assert all(c.optim.d.lr == 3e-4 for c in configs)
    with pytest.raises(ConfigError, match="did you mean 'train.num_steps'"):
        sweep_lib.Sweep(path, common={"train.num_step": 5})


def test_cli_rejects_an_unknown_key_before_running_anything(tmp_path):
    path = write_sweep(tmp_path, """
        def get_sweep():
            return [{"seed": 0}, {"optim.d.lrr": 1e-3}]
    """)
    result = run_cli(f"--sweep={path}", f"--workdir={tmp_path / 'w'}", "--parallel=2")
    assert result.returncode == 2
    assert "optim.d.lrr" in result.stderr
    assert not os.path.exists(tmp_path / "w")


def test_a_failing_trial_is_recorded_and_the_others_finish(tmp_path):
    # An enormous learning rate makes the losses non-finite: the loop raises, the trial fails.
    path = write_sweep(tmp_path, """
        def get_sweep():
            return [{"seed": 0}, {"optim.g.lr": 1e30, "optim.d.lr": 1e30}]
    """)
    workdir = tmp_path / "w"
    result = run_cli(f"--sweep={path}", f"--workdir={workdir}", "--parallel=2",
                     "--config.train.num_steps=60")  # Applies to every trial.
    assert result.returncode == 1, result.stderr
    assert "1 of 2 trials did not finish" in result.stderr
    statuses = json.loads(result.stdout)
    assert statuses == {"seed=0": "done", "optim.g.lr=1e+30,optim.d.lr=1e+30": "failed"}
    failed = sweep_lib.read_trial(str(workdir / "optim.g.lr=1e+30,optim.d.lr=1e+30"))
    assert failed["error"].startswith("NonFiniteLossError")
    assert sweep_lib.is_done(str(workdir / "seed=0"))
    with open(workdir / "seed=0" / "config.json") as f:
        saved = json.load(f)
    assert saved["seed"] == 0  # The resolved config is kept,
    assert saved["train"]["num_steps"] == 60  # with the command line's override.


def test_a_killed_sweep_skips_finished_trials_and_resumes_the_rest(tmp_path, capfd):
    path = write_sweep(tmp_path, """
        def get_sweep():
            return sweep("seed", [0, 1])
    """, num_steps=2000)
    workdir = tmp_path / "w"
    command = [sys.executable, os.path.join(REPO, "scripts", "sweep.py"), f"--sweep={path}",
               f"--workdir={workdir}", "--parallel=1"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    second = workdir / "seed=1" / "checkpoints"
    deadline = time.time() + 240
    try:  # Kill the sweep (and its worker) once trial 1 has saved a checkpoint.
        while not (second.exists() and any(p.name.isdigit() for p in second.iterdir())):
            assert process.poll() is None and time.time() < deadline, "sweep ended early"
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert sweep_lib.is_done(str(workdir / "seed=0"))
    assert not sweep_lib.is_done(str(workdir / "seed=1"))
    first_eval = (workdir / "seed=0" / "eval.json").stat().st_mtime_ns

    s = sweep_lib.Sweep(path)
    capfd.readouterr()
    assert sweep_lib.run_trial(s, str(workdir), 0) == "skipped"
    assert sweep_lib.run_trial(s, str(workdir), 1) == "done"
    assert "resumed from step" in capfd.readouterr().err
    assert (workdir / "seed=0" / "eval.json").stat().st_mtime_ns == first_eval
    record = sweep_lib.read_trial(str(workdir / "seed=1"))
    assert record["status"] == "done" and record["attempts"] == 2
    with open(workdir / "seed=1" / "metrics.jsonl") as f:
        steps = [json.loads(line)["step"] for line in f]
    assert steps == sorted(set(steps)) and steps[-1] == 2000  # No step logged twice.


def test_sweep_files_import_their_vocabulary_from_gan_jax_sweep():
    from gan_jax import sweep as public

    assert public.product(public.sweep("loss.r1_weight", [0.1, 1.0]),
                          public.sweep("seed", [0])) == [
        {"loss.r1_weight": 0.1, "seed": 0}, {"loss.r1_weight": 1.0, "seed": 0}]


def test_trials_that_differ_in_scalars_pack_into_one_program_each(tmp_path):
    trials = sweep_lib.product(sweep_lib.sweep("model.generator.hidden_dim", [8, 16]),
                               sweep_lib.sweep("loss.r1_weight", [0.1, 1.0]),
                               sweep_lib.sweep("seed", [0, 1]))
    packed = sweep_lib.pack(trials + [{"model.generator.hidden_dim": 4, "seed": 0}])
    assert packed == [
        {"model.generator.hidden_dim": 8, "train.vectorise": "loss.r1_weight=0.1,1.0 seed=0,1"},
        {"model.generator.hidden_dim": 16, "train.vectorise": "loss.r1_weight=0.1,1.0 seed=0,1"},
        {"model.generator.hidden_dim": 4, "seed": 0}]
    # Not a full product: each trial stays separate.
    ragged = [{"loss.r1_weight": 0.1, "seed": 0}, {"loss.r1_weight": 1.0, "seed": 1}]
    assert sweep_lib.pack(ragged) == ragged

    path = write_sweep(tmp_path, """
        def get_sweep():
            return product(sweep("loss.r1_weight", [0.0, 1.0]), sweep("seed", [0, 1]))
    """, num_steps=50)
    workdir = tmp_path / "w"
    result = run_cli(f"--sweep={path}", f"--workdir={workdir}", "--vectorise")
    assert result.returncode == 0, result.stderr
    (name,) = json.loads(result.stdout)
    assert name == "train.vectorise=loss.r1_weight=0.0,1.0_seed=0,1"
    replicas = sorted(os.listdir(workdir / name))
    assert "loss.r1_weight=1.0,seed=1" in replicas
    from gan_jax.commands.report import report

    assert len(report(str(workdir))[1].strip().splitlines()) == 1 + 2  # Two rows of 2 seeds.


def test_keys_that_move_together_pack_as_one():
    trials = sweep_lib.product(
        sweep_lib.zipped(sweep_lib.sweep("loss.r1_weight", [0.1, 1.0]),
                         sweep_lib.sweep("loss.r2_weight", [0.1, 1.0])),
        sweep_lib.sweep("seed", [0, 1]))
    (packed,) = sweep_lib.pack(trials)
    assert packed == {"train.vectorise": "loss.r1_weight+loss.r2_weight=0.1,1.0 seed=0,1"}
    from gan_jax.training import vectorise
    from tests.helpers import tiny_config

    config = tiny_config(seed=0)
    config.train.vectorise = packed["train.vectorise"]

    assert vectorise.replica_overrides(config) == [
        {**{"loss.r1_weight": g, "loss.r2_weight": g}, "seed": s}
        for g in (0.1, 1.0) for s in (0, 1)]
