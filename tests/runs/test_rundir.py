"""Run directories: preparing, retrying, resuming from anywhere, unreadable checkpoints."""

import json
import os
import shutil

import pytest

from gan_jax.config import ConfigError, base_config, to_json
from gan_jax.runs import rundir
from gan_jax.runs.loop import train_and_evaluate
from tests.helpers import assert_states_identical, load_state


def prepare(config, workdir):
    """What training does first: resolve the config against the workdir, then record it."""
    resolved = rundir.prepare(config, workdir)
    rundir.record(resolved, workdir)
    return resolved


def test_config_saved_by_older_version_gets_new_keys_with_defaults(tmp_path, make_config):
    saved = json.loads(to_json(make_config()))
    del saved["eval"]["metrics"], saved["eval"]["cache_dir"]
    (tmp_path / "config.json").write_text(json.dumps(saved))
    config = rundir.load_config(str(tmp_path))
    assert config.eval.metrics == base_config().eval.metrics
    assert config.eval.cache_dir == ""
    assert config.model.generator.hidden_dim == 32  # Saved values are kept.
    assert "output_shape" not in config.model.generator  # Free-form sections get nothing.


def test_a_run_started_by_an_older_version_resumes(tmp_path, make_config):
    saved = json.loads(to_json(make_config()))
    del saved["train"]["num_seeds"]  # A key added after the run started.
    (tmp_path / "config.json").write_text(json.dumps(saved))
    (tmp_path / "checkpoints" / "100").mkdir(parents=True)  # A run to resume.
    resumed = prepare(make_config(), str(tmp_path))
    assert resumed.train.num_seeds == 1


def test_a_workdir_with_checkpoints_refuses_another_config(tmp_path, make_config):
    prepare(make_config(), str(tmp_path))
    (tmp_path / "checkpoints" / "100").mkdir(parents=True)
    other = make_config()
    other.optim.d.lr = 0.5
    with pytest.raises(ConfigError, match=r"optim.d.lr: saved 0.001, now 0.5"):
        prepare(other, str(tmp_path))


def test_a_workdir_without_checkpoints_takes_a_corrected_config(tmp_path, make_config):
    prepare(make_config(), str(tmp_path))  # A run that failed before its checkpoint.
    corrected = make_config()
    corrected.optim.d.lr = 1e-4
    assert prepare(corrected, str(tmp_path)).optim.d.lr == 1e-4
    assert rundir.load_config(str(tmp_path)).optim.d.lr == 1e-4


def test_paths_are_stored_absolute(tmp_path, make_config, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = make_config()
    config.eval.cache_dir = "stats"
    resolved = prepare(config, "run")
    assert resolved.eval.cache_dir == str(tmp_path / "stats")
    assert rundir.load_config(str(tmp_path / "run")).eval.cache_dir == str(tmp_path / "stats")


def test_a_run_with_relative_paths_resumes_from_another_directory(tmp_path, monkeypatch):
    from tests.helpers import tiny_image_config, write_image_folder

    (tmp_path / "start").mkdir()
    (tmp_path / "elsewhere").mkdir()
    write_image_folder(tmp_path / "start" / "images")
    monkeypatch.chdir(tmp_path / "start")
    train_and_evaluate(tiny_image_config("images", num_steps=4), "run")
    monkeypatch.chdir(tmp_path / "elsewhere")
    saved = rundir.load_config(str(tmp_path / "start" / "run"))
    assert saved.data.path == str(tmp_path / "start" / "images")
    saved.train.num_steps = 6
    train_and_evaluate(saved, str(tmp_path / "start" / "run"))
    assert int(load_state(str(tmp_path / "start" / "run")).step) == 6


def test_a_workdir_that_is_a_file_is_refused(tmp_path, make_config):
    path = tmp_path / "file"
    path.write_text("")
    with pytest.raises(ConfigError, match="is a file, not a directory"):
        prepare(make_config(), str(path))


def test_extending_a_run_says_so(tmp_path, make_config, capsys):
    workdir = str(tmp_path / "run")
    train_and_evaluate(make_config(num_steps=100), workdir)
    capsys.readouterr()
    rundir.prepare(make_config(num_steps=200), workdir)
    assert f"extending the run in {workdir} from 100 to 200 steps" in capsys.readouterr().err

    def decaying(num_steps):
        config = make_config(num_steps=num_steps)
        config.optim.g.schedule = "linear"
        return config

    workdir = str(tmp_path / "decaying")
    train_and_evaluate(decaying(100), workdir)
    capsys.readouterr()
    rundir.prepare(decaying(200), workdir)
    err = capsys.readouterr().err
    assert "optim.g.schedule='linear' spans num_steps" in err
    assert "differs from a fresh run of that length" in err


def test_fewer_steps_than_trained_are_refused_and_nothing_is_written(tmp_path, make_config):
    workdir = tmp_path / "run"
    train_and_evaluate(make_config(num_steps=100), str(workdir))
    before = {name: (workdir / name).read_bytes()
              for name in ("config.json", "environment.json", "eval.json")}
    with pytest.raises(ConfigError, match="train.num_steps: 50 is fewer than the 100 steps the "
                                          "run in .* has trained; give at least 100"):
        prepare(make_config(num_steps=50), str(workdir))
    assert {name: (workdir / name).read_bytes() for name in before} == before


def test_a_finished_run_says_it_has_nothing_to_train(tmp_path, make_config, capsys):
    workdir = str(tmp_path / "run")
    first = train_and_evaluate(make_config(num_steps=100), workdir)
    capsys.readouterr()
    again = train_and_evaluate(make_config(num_steps=100), workdir)
    err = capsys.readouterr().err
    assert "is finished (100/100 steps); nothing to train" in err
    assert "resumed from step" not in err
    assert again == first


def test_an_unreadable_latest_checkpoint_falls_back_to_the_one_before(tmp_path, make_config,
                                                                      capsys):
    straight, damaged = str(tmp_path / "straight"), str(tmp_path / "damaged")
    train_and_evaluate(make_config(num_steps=200), straight)
    shutil.copytree(straight, damaged)
    # Truncate every file of the step-200 checkpoint, as a half-finished copy would.
    for root, _, files in os.walk(os.path.join(damaged, "checkpoints", "200")):
        for name in files:
            with open(os.path.join(root, name), "r+b") as f:
                f.truncate(0)
    capsys.readouterr()
    assert int(load_state(damaged).step) == 100  # Resumes from the newest readable one.
    err = capsys.readouterr().err
    assert "checkpoint of step 200 cannot be read" in err
    assert os.path.isdir(os.path.join(damaged, "unreadable_checkpoints", "200"))
    train_and_evaluate(make_config(num_steps=200), damaged)  # Retrains steps 100-200.
    assert_states_identical(load_state(straight), load_state(damaged))


def test_discard_removes_the_run_but_not_other_files(tmp_path, make_config):
    workdir = tmp_path / "run"
    train_and_evaluate(make_config(num_steps=50), str(workdir))
    (workdir / "notes.txt").write_text("mine")
    rundir.discard(str(workdir))
    assert sorted(os.listdir(workdir)) == ["notes.txt"]
    shutil.rmtree(workdir)


def test_a_checkpoint_that_does_not_fit_the_model_is_not_set_aside(tmp_path, make_config):
    from gan_jax.config import with_seed
    from gan_jax.runs.checkpoint import saved_steps
    from gan_jax.training import replicas as replicas_lib

    workdir = str(tmp_path / "run")
    train_and_evaluate(make_config(num_steps=100), workdir)
    wider = make_config()
    wider.model.generator.hidden_dim = 48  # Another model: its template does not fit.
    with pytest.raises(ValueError, match=r"step 100 .* does not fit this model: "
                       r"g_params/Dense_0/bias is \(32,\) in the checkpoint and \(48,\)"):
        rundir.restore(replicas_lib.build_replicas(with_seed(wider, 0)), workdir)
    assert saved_steps(rundir.checkpoint_dir(workdir)) == [100]  # Nothing moved aside.
