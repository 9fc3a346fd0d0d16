"""Reproduction from a run's directory: bit-exact here, and mismatches made on purpose."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gan_jax.commands.reproduce import compare_evals, compare_states, reproduce, summary
from gan_jax.config.registry import ConfigError
from gan_jax.runs import environment
from gan_jax.runs.loop import train_and_evaluate
from tests.conftest import REPO


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    from tests.helpers import tiny_config

    workdir = str(tmp_path_factory.mktemp("run") / "original")
    config = tiny_config(seed=None, num_steps=100)  # The seed is drawn, then logged.
    config.train.sample_every = 0
    train_and_evaluate(config, workdir)
    return workdir


def edit_json(path: str, edit) -> None:
    with open(path) as f:
        obj = json.load(f)
    edit(obj)
    with open(path, "w") as f:
        json.dump(obj, f)


def test_a_run_reproduces_bit_exactly_from_its_directory(finished_run, tmp_path):
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "scripts", "reproduce.py"), finished_run,
         f"--workdir={tmp_path / 'again'}"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()  # The verdict in a few lines.
    assert lines[0].startswith("reproduced (bit-exact): ") and len(lines) <= 5
    assert "eval.json: every number matches" in result.stdout
    with open(tmp_path / "again" / "reproduce.json") as f:
        verdict = json.load(f)
    assert verdict["match"] and verdict["criterion"] == "bit-exact"
    assert verdict["state"]["differing_leaves"] == 0 and verdict["state"]["leaves"] > 10
    assert verdict["eval_differences"] == {}
    assert f"final state: {verdict['state']['leaves']} of {verdict['state']['leaves']} arrays " \
           "identical" in result.stdout


def test_a_tampered_eval_or_config_is_a_mismatch(finished_run, tmp_path):
    import shutil

    # The recorded evaluation disagrees with what the run produces.
    tampered = str(tmp_path / "tampered_eval")
    shutil.copytree(finished_run, tampered)
    edit_json(os.path.join(tampered, "eval.json"),
              lambda e: e["ema"].update(high_quality=e["ema"]["high_quality"] + 0.001))
    verdict = reproduce(tampered, str(tmp_path / "again_eval"))
    assert not verdict["match"]
    assert list(verdict["eval_differences"]) == ["ema/high_quality"]
    assert verdict["state"]["differing_leaves"] == 0

    # The recorded seed is not the one the checkpoint was trained with.
    wrong_seed = str(tmp_path / "wrong_seed")
    shutil.copytree(finished_run, wrong_seed)
    edit_json(os.path.join(wrong_seed, "config.json"), lambda c: c.update(seed=c["seed"] + 1))
    verdict = reproduce(wrong_seed, str(tmp_path / "again_seed"))
    assert not verdict["match"] and verdict["criterion"] == "bit-exact"
    # Every parameter and optimizer moment differs; only counters such as the step agree.
    assert verdict["state"]["differing_leaves"] >= verdict["state"]["leaves"] - 6
    assert verdict["state"]["max_abs_diff"] > 1e-3


def test_another_platform_is_compared_on_eval_within_tolerance(finished_run, tmp_path):
    import shutil

    moved = str(tmp_path / "moved")
    shutil.copytree(finished_run, moved)
    edit_json(os.path.join(moved, environment.ENVIRONMENT_FILE),
              lambda e: e["sessions"][0].update(backend="gpu", device_kind="NVIDIA H100"))
    edit_json(os.path.join(moved, "eval.json"),
              lambda e: e["raw"].update(high_quality=e["raw"]["high_quality"] + 0.01))
    verdict = reproduce(moved, str(tmp_path / "again"))
    assert verdict["match"] and verdict["criterion"].startswith("eval within")
    verdict = reproduce(moved, str(tmp_path / "again"), rtol=0.0, atol=0.001, overwrite=True)
    assert not verdict["match"] and list(verdict["eval_differences"]) == ["raw/high_quality"]


def test_another_cpu_instruction_set_is_never_held_to_bit_exactness(finished_run, tmp_path):
    import shutil

    moved = str(tmp_path / "moved")
    shutil.copytree(finished_run, moved)
    now = environment.current()
    other = "AVX2" if now["cpu_isa"] != "AVX2" else "AVX512"
    edit_json(os.path.join(moved, environment.ENVIRONMENT_FILE),
              lambda e: e["sessions"][0].update(cpu_isa=other))
    verdict = reproduce(moved, str(tmp_path / "again"))
    assert verdict["criterion"].startswith("eval within")
    assert f"cpu_isa: {other} -> {now['cpu_isa']}" in verdict["why"]
    assert verdict["match"]  # Same machine in truth, so the eval agrees.
    text = summary(verdict)
    assert "bit-exact" not in text.splitlines()[0] and "not held to bit-exactness" in text

    # A run recorded before CPUs were: the fields it lacks count as differing.
    older = str(tmp_path / "older")
    shutil.copytree(finished_run, older)
    edit_json(os.path.join(older, environment.ENVIRONMENT_FILE),
              lambda e: [s.pop(k) for s in e["sessions"] for k in ("cpu_isa", "cpu_model")])
    verdict = reproduce(older, str(tmp_path / "again_older"))
    assert verdict["criterion"].startswith("eval within") and verdict["match"]
    assert "cpu_isa: not recorded ->" in verdict["why"]


def test_unfinished_runs_are_refused(finished_run, tmp_path):
    with pytest.raises(ConfigError, match="must differ"):
        reproduce(finished_run, finished_run)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="busy is not empty; .* add --overwrite"):
        reproduce(finished_run, str(tmp_path / "busy"))
    with pytest.raises(FileNotFoundError, match="config.json"):
        reproduce(str(tmp_path), str(tmp_path / "x"))


def test_comparisons():
    a = {"w": np.array([1.0, 2.0]), "b": np.zeros(3)}
    b = {"w": np.array([1.0, 2.5]), "b": np.zeros(3)}
    assert compare_states(a, a)["differing_leaves"] == 0
    diff = compare_states(a, b)
    assert diff["differing"] == ["['w']"] and diff["max_abs_diff"] == 0.5
    old = {"step": 10, "raw": {"modes": 25, "kl": 0.10, "kl_none": None}}
    assert compare_evals(old, old) == {}
    new = {"step": 10, "raw": {"modes": 24, "kl": 0.11, "kl_none": None}}
    assert compare_evals(old, new) == {"raw/kl": [0.10, 0.11], "raw/modes": [25, 24]}
    # |24 - 25| <= 0.02 + 0.05 * 25 and |0.11 - 0.10| <= 0.02 + 0.05 * 0.1.
    assert compare_evals(old, new, rtol=0.05, atol=0.02) == {}
    assert compare_evals(old, {"step": 10, "raw": {}}) == {
        "raw/kl": [0.10, "<missing>"], "raw/kl_none": [None, "<missing>"],
        "raw/modes": [25, "<missing>"]}


def test_a_replica_reproduces_alone_and_the_vectorised_run_bit_exactly(tmp_path):
    from tests.helpers import tiny_config

    config = tiny_config(seed=2, num_steps=50)
    config.train.vectorise = "loss.r1_weight=0.1,1"
    config.train.sample_every = 0
    workdir = str(tmp_path / "sweep")
    train_and_evaluate(config, workdir)
    replica = os.path.join(workdir, "loss.r1_weight=1.0,seed=2")
    verdict = reproduce(replica, str(tmp_path / "alone"))
    assert verdict["match"] and verdict["criterion"].startswith("eval within")
    assert "one replica of a vectorised program" in verdict["why"]
    # Alone, it differs from its replica only by float32 rounding.
    assert 0 <= verdict["state"]["max_abs_diff"] < 1e-4
    whole = reproduce(workdir, str(tmp_path / "whole"))
    assert whole["match"] and whole["criterion"] == "bit-exact"
    assert whole["state"]["differing_leaves"] == 0
