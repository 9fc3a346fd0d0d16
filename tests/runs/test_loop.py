import json
import os

import jax
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax.config.registry import ConfigError
from gan_jax.runs.loop import NonFiniteLossError, next_boundary, train_and_evaluate
from tests.helpers import assert_states_identical, load_state


def _records(workdir):
    with open(os.path.join(workdir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def test_run_writes_every_output(make_config, tmp_path):
    workdir = str(tmp_path / "run")
    results = train_and_evaluate(make_config(seed=None), workdir)

    with open(os.path.join(workdir, "config.json")) as f:
        saved = json.load(f)
    assert isinstance(saved["seed"], int)  # Drawn, used and logged.
    assert saved["train"]["num_steps"] == 200

    records = _records(workdir)
    assert [r["step"] for r in records] == [50, 100, 150, 200]
    for key in ("d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm",
                "steps_per_sec"):
        assert all(np.isfinite(r[key]) for r in records), key

    assert sorted(os.listdir(os.path.join(workdir, "samples"))) == [
        "step_00000100.png", "step_00000200.png"]
    assert any(f.startswith("events.out.tfevents")
               for f in os.listdir(os.path.join(workdir, "tensorboard")))
    assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["100", "200"]

    with open(os.path.join(workdir, "eval.json")) as f:
        assert json.load(f) == results
    assert results["step"] == 200
    for generator in ("raw", "ema"):
        assert results[generator]["num_samples"] == 500
        assert 0 <= results[generator]["modes"] <= 8


def test_same_config_and_seed_give_identical_runs(make_config, tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    ra = train_and_evaluate(make_config(seed=11), a)
    rb = train_and_evaluate(make_config(seed=11), b)
    assert ra == rb
    assert_states_identical(load_state(a), load_state(b))
    strip = [{k: v for k, v in r.items() if k != "steps_per_sec"} for r in _records(a)]
    assert strip == [{k: v for k, v in r.items() if k != "steps_per_sec"} for r in _records(b)]
    train_and_evaluate(make_config(seed=12), str(tmp_path / "c"))
    other = load_state(str(tmp_path / "c")).g_params["Dense_0"]["kernel"]
    assert not np.array_equal(other, load_state(a).g_params["Dense_0"]["kernel"])


def test_resuming_continues_exactly(make_config, tmp_path):
    straight = str(tmp_path / "straight")
    train_and_evaluate(make_config(num_steps=300), straight)

    resumed = str(tmp_path / "resumed")
    first = make_config(num_steps=300)
    first.train.num_steps = 130  # Stops mid-interval: checkpoint at 130, off the usual grid.
    train_and_evaluate(first, resumed)
    assert load_state(resumed).step == 130
    train_and_evaluate(make_config(num_steps=300), resumed)

    assert_states_identical(load_state(straight), load_state(resumed))
    # metrics.jsonl holds each step once, as if never interrupted.
    assert [r["step"] for r in _records(resumed)] == [50, 100, 130, 150, 200, 250, 300]


def test_resume_rejects_a_different_config(make_config, tmp_path):
    workdir = str(tmp_path / "run")
    train_and_evaluate(make_config(num_steps=50), workdir)
    other = make_config(num_steps=50)
    other.optim.d.lr = 1e-2
    with pytest.raises(ConfigError, match=r"optim.d.lr: saved 0.001, now 0.01"):
        train_and_evaluate(other, workdir)


def test_resume_reuses_the_drawn_seed(make_config, tmp_path):
    workdir = str(tmp_path / "run")
    train_and_evaluate(make_config(num_steps=50, seed=None), workdir)
    with open(os.path.join(workdir, "config.json")) as f:
        seed = json.load(f)["seed"]
    train_and_evaluate(make_config(num_steps=100, seed=None), workdir)
    with open(os.path.join(workdir, "config.json")) as f:
        assert json.load(f)["seed"] == seed


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(make_config, tmp_path):
    workdir = str(tmp_path / "run")
    train_and_evaluate(make_config(num_steps=100), workdir)
    diverging = make_config(num_steps=300)
    diverging.optim.d.lr = 1e30
    diverging.optim.g.lr = 1e30
    # Same workdir would be a config conflict; copy the good run so only the lr differs.
    bad = str(tmp_path / "bad")
    os.makedirs(bad)
    with open(os.path.join(bad, "config.json"), "w") as f:
        f.write(config_lib.to_json(config_lib.with_seed(diverging, 0)))
    with pytest.raises(NonFiniteLossError, match=r"NaN or infinite before step 50"):
        train_and_evaluate(diverging, bad)
    assert not os.path.exists(os.path.join(bad, "checkpoints", "50"))
    assert not os.path.exists(os.path.join(bad, "eval.json"))


def test_boundaries_are_a_function_of_the_step_alone(make_config):
    train = make_config(num_steps=300).train  # steps_per_call 25, log 50, ckpt/sample 100.
    assert next_boundary(0, train) == 25
    assert next_boundary(130, train) == 150
    assert next_boundary(290, train) == 300
    train.steps_per_call = 1000
    assert next_boundary(0, train) == 50


def test_periodic_evaluation_is_logged(make_config, tmp_path):
    workdir = str(tmp_path / "run")
    config = make_config(num_steps=100)
    config.train.eval_every = 50
    results = train_and_evaluate(config, workdir)
    evals = [r for r in _records(workdir) if "eval/raw/modes" in r]
    assert [r["step"] for r in evals] == [50, 100]
    assert evals[-1]["eval/ema/modes"] == results["ema"]["modes"]
    assert evals[-1]["eval/raw/high_quality"] == results["raw"]["high_quality"]


def test_a_ctrl_c_while_building_is_never_lost(make_config, tmp_path, monkeypatch):
    """Python drops a KeyboardInterrupt raised inside a garbage-collection callback (JAX runs
    one); a Ctrl-C landing there while the run is built must still stop it before step 1."""
    import gc
    import signal

    from gan_jax.training import replicas as replicas_lib

    build = replicas_lib.build_replicas

    def build_then_ctrl_c_inside_gc(config):
        replicas = build(config)

        def ctrl_c(phase, info):
            if phase == "start":  # Once: a second Ctrl-C acts as usual.
                os.kill(os.getpid(), signal.SIGINT)  # Handled before the callback returns.

        gc.callbacks.append(ctrl_c)
        try:
            gc.collect()
        finally:
            gc.callbacks.remove(ctrl_c)
        return replicas

    monkeypatch.setattr(replicas_lib, "build_replicas", build_then_ctrl_c_inside_gc)
    workdir = str(tmp_path / "run")
    previous = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        train_and_evaluate(make_config(num_steps=50), workdir)
    assert signal.getsignal(signal.SIGINT) is previous  # Handed back.
    assert not os.path.exists(os.path.join(workdir, "checkpoints")) or not os.listdir(
        os.path.join(workdir, "checkpoints"))


def test_a_flattened_optimizer_trains_like_per_leaf_and_resumes_exactly(make_config, tmp_path):
    def config(num_steps, flatten=True):
        c = make_config(num_steps=num_steps)
        c.optim.g.flatten = c.optim.d.flatten = flatten
        return c

    per_leaf, straight, resumed = (str(tmp_path / name) for name in ("leaf", "flat", "again"))
    train_and_evaluate(config(50, flatten=False), per_leaf)
    train_and_evaluate(config(50), straight)
    train_and_evaluate(config(25), resumed)
    train_and_evaluate(config(50), resumed)
    flat = load_state(straight)
    assert_states_identical(flat, load_state(resumed))
    # The same arithmetic in other kernels: equal to float32 rounding after 50 steps.
    for name in ("g_params", "d_params", "ema_g_params"):
        jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6),
                     getattr(load_state(per_leaf), name), getattr(flat, name))
    # One vector per Adam moment and player.
    assert {x.ndim for x in jax.tree.leaves(flat.g_opt_state) if x.size > 1} == {1}


def test_the_progress_line_names_what_g_reads():
    from gan_jax.runs.loop import summary_line

    metrics = {"d_loss": [1.0], "g_loss": [0.5], "d_real": [0.6], "d_fake": [0.4]}
    line = summary_line(5, 100, metrics, 12.0)
    assert line == ("step   5/100  d_loss 1.000  g_loss 0.500  D(x) 0.600  D(G(z)) 0.400  "
                    "12.0 steps/s")
    translated = summary_line(5, 100, {**metrics, "g_l1": [0.1]}, 12.0, translation=True)
    assert "L1 0.100" in translated and "D(G(a)) 0.400" in translated


def test_the_progress_line_shows_adas_p_and_r_t():
    from gan_jax.runs.loop import summary_line

    metrics = {"d_loss": [1.0], "g_loss": [0.5], "d_real": [0.6], "d_fake": [0.4],
               "d_real_sign": [0.62], "ada_p": [0.125]}
    assert summary_line(5, 100, metrics, 12.0).endswith(
        "D(G(z)) 0.400  r_t 0.620  ada_p 0.125  12.0 steps/s")
