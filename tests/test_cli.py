"""The command-line entry points, run as a user runs them: in a fresh process."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import assert_states_identical, load_state

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL = [
    "--config.seed=0",
    "--config.model.generator.hidden_dim=32", "--config.model.generator.depth=2",
    "--config.model.discriminator.hidden_dim=32", "--config.model.discriminator.depth=2",
    "--config.train.batch_size=64", "--config.train.steps_per_call=25",
    "--config.train.log_every=50", "--config.train.sample_every=0",
    "--config.train.checkpoint_every=100", "--config.train.progress_bar=False",
    "--config.eval.num_samples=500",
]


def _train_args(workdir, num_steps, *extra):
    return [sys.executable, os.path.join(REPO, "scripts", "train.py"),
            "--config", os.path.join(REPO, "configs", "mog.py"), "--workdir", workdir,
            f"--config.train.num_steps={num_steps}", *SMALL, *extra]


def _run(args, timeout=300):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=REPO)


def test_train_then_evaluate(tmp_path):
    workdir = str(tmp_path / "run")
    done = _run(_train_args(workdir, 100))
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    with open(os.path.join(workdir, "eval.json")) as f:
        assert json.load(f) == printed
    assert os.path.exists(os.path.join(workdir, "samples", "step_00000100.png"))

    evaluated = _run([sys.executable, os.path.join(REPO, "scripts", "evaluate.py"),
                      "--workdir", workdir])
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout) == printed  # Same checkpoint, same fixed latents.


@pytest.mark.parametrize("override,message", [
    ("--config.train.n_dsic=2",
     "unknown config key 'train.n_dsic'; did you mean 'train.n_disc'?"),
    ("--config.train.num_steps=ten", "--config.train.num_steps: cannot use 'ten'"),
    ("--config.loss.name=wgan", "loss.name: unknown loss 'wgan'"),
    ("--config.model.generator.name=big", "model.generator.name: unknown generator 'big'"),
    ("--config.optim.g.name=adamx", "optim.g.name: unknown optimizer 'adamx'"),
    ("--config.train.batch_size=0", "train.batch_size: must be >= 1, got 0"),
    ("--config.train.n_disc=0", "train.n_disc: must be >= 1, got 0"),
])
def test_bad_input_fails_fast_with_one_clear_line(tmp_path, override, message):
    workdir = str(tmp_path / "run")
    done = _run(_train_args(workdir, 100, override))
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not os.path.exists(workdir)  # Nothing written, nothing compiled.


def test_missing_config_file_is_reported(tmp_path):
    args = _train_args(str(tmp_path / "run"), 100)
    args[args.index("--config") + 1] = str(tmp_path / "missing.py")
    done = _run(args)
    assert done.returncode == 2 and "--config: no such config file" in done.stderr


def test_missing_workdir_is_reported(tmp_path):
    done = _run([sys.executable, os.path.join(REPO, "scripts", "evaluate.py"),
                 "--workdir", str(tmp_path / "nothing")])
    assert done.returncode == 2 and "config.json not found" in done.stderr


def _wait_for_checkpoint(workdir, proc, min_step, timeout=240):
    ckpt_dir = os.path.join(workdir, "checkpoints")
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"training ended early: {proc.communicate()[1][-2000:]}")
        steps = [int(d) for d in os.listdir(ckpt_dir) if d.isdigit()] \
            if os.path.isdir(ckpt_dir) else []
        if steps and max(steps) >= min_step:
            return
        time.sleep(0.05)
    pytest.fail("no checkpoint in time")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("straight") / "run")
    done = _run(_train_args(workdir, 1500))
    assert done.returncode == 0, done.stderr
    return load_state(workdir)


def test_hard_kill_then_resume_is_bit_identical(tmp_path, uninterrupted):
    workdir = str(tmp_path / "run")
    proc = subprocess.Popen(_train_args(workdir, 1500), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO)
    _wait_for_checkpoint(workdir, proc, 200)
    proc.kill()  # SIGKILL: no handler runs, a save may be cut off midway.
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    resumed = _run(_train_args(workdir, 1500))
    assert resumed.returncode == 0, resumed.stderr
    assert_states_identical(load_state(workdir), uninterrupted)


def test_sigterm_saves_and_exits_cleanly_then_resumes(tmp_path, uninterrupted):
    workdir = str(tmp_path / "run")
    proc = subprocess.Popen(_train_args(workdir, 1500), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO)
    _wait_for_checkpoint(workdir, proc, 100)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: interrupted; saved step ") and "Traceback" not in err
    step = int(last.split("saved step ")[1].split()[0])
    assert load_state(workdir).step == step  # Saved where it stopped.
    assert not os.path.exists(os.path.join(workdir, "eval.json"))
    resumed = _run(_train_args(workdir, 1500))
    assert resumed.returncode == 0, resumed.stderr
    assert_states_identical(load_state(workdir), uninterrupted)
