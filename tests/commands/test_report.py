"""The report's grouping and arithmetic, on hand-made run directories."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys

import pytest

from gan_jax import config as config_lib
from gan_jax.commands.report import format_cell, mean_and_error, report
from tests.conftest import REPO
from tests.helpers import tiny_config


def make_run(root, name: str, seed: int, lr: float, modes: list[int], quality: list[float],
             kl: list[float | None]) -> None:
    """A run directory with a real config and an eval.json of the given raw / EMA values."""
    config = tiny_config(seed=seed)
    config.optim.d.lr = lr
    config.train.log_every = 7 + seed  # Differs between runs but is not a setting.
    path = os.path.join(root, name)
    os.makedirs(path)
    with open(os.path.join(path, "config.json"), "w") as f:
        f.write(config_lib.to_json(config))
    results = {"step": 100}
    for i, generator in enumerate(("raw", "ema")):
        results[generator] = {"modes": modes[i], "num_modes": 8, "high_quality": quality[i],
                              "reverse_kl": kl[i], "num_samples": 2500}
    with open(os.path.join(path, "eval.json"), "w") as f:
        json.dump(results, f)


def test_mean_and_standard_error():
    mean, error, n = mean_and_error([1.0, 2.0, 4.0])
    assert mean == pytest.approx(7 / 3)
    # Sample variance: ((4/3)^2 + (1/3)^2 + (5/3)^2) / 2 = 7/3; s.e. = sqrt(7/3 / 3).
    assert error == pytest.approx(math.sqrt(7 / 9))
    assert n == 3
    assert math.isnan(mean_and_error([5.0])[1])


def test_cells_show_the_precision_the_error_supports():
    assert format_cell((0.95123, 0.0123, 10), 10) == "0.951 ± 0.012"
    assert format_cell((24.8, 0.2, 10), 10) == "24.80 ± 0.20"  # Two significant digits.
    assert format_cell((8.0, 0.0, 10), 10) == "8 ± 0"
    assert format_cell((0.95, 0.01, 10), 10, scale=100) == "95.0 ± 1.0"
    assert format_cell((7.2, 0.0004, 10), 10) == "7.20000 ± 0.00040"
    assert format_cell((0.5, math.nan, 1), 3) == "0.5 (n=1)"
    assert format_cell(None, 3) == "—"


def test_report_groups_seeds_by_setting(tmp_path):
    root = str(tmp_path)
    make_run(root, "a0", 0, 1e-3, [8, 8], [0.90, 0.95], [0.01, 0.02])
    make_run(root, "a1", 1, 1e-3, [6, 8], [0.80, 0.97], [0.30, 0.04])
    make_run(root, "a2", 2, 1e-3, [7, 8], [0.70, 0.96], [None, 0.03])
    make_run(root, "b0", 0, 3e-4, [8, 8], [0.99, 0.98], [0.00, 0.01])
    os.makedirs(os.path.join(root, "a0", "checkpoints"))  # Not a run; skipped.
    markdown, table = report(root, metrics=["modes", "ema/high_quality", "reverse_kl"],
                             percent=("high_quality",))
    lines = markdown.splitlines()
    # One setting varies (the learning rate); log_every and seed do not make rows.
    assert lines[0] == ("| optim.d.lr | ema/high_quality (%) | ema/modes | ema/reverse_kl | "
                        "raw/modes | raw/reverse_kl | seeds |")
    # raw/modes 8, 6, 7: mean 7, s.e. 1/sqrt(3) = 0.577; ema high quality 95, 97, 96: s.e. 0.577.
    assert lines[2] == ("| 0.001 | 96.00 ± 0.58 | 8 ± 0 | 0.0300 ± 0.0058 | 7.00 ± 0.58 | "
                        "0.15 ± 0.14 (n=2) | 3 |")
    assert lines[3].startswith("| 0.0003 | 98 | 8 |") and lines[3].endswith("| 1 |")
    pooled, _ = report(root, metrics=["raw/modes"], ignore=("optim.d.lr",))
    assert pooled.splitlines()[2] == "| 7.25 ± 0.48 | 4 |"  # 8, 6, 7, 8: s.e. 0.479.

    rows = list(csv.DictReader(io.StringIO(table)))
    assert [r["optim.d.lr"] for r in rows] == ["0.001", "0.0003"]
    assert rows[0]["seeds"] == "3"  # How many, not which.
    assert float(rows[0]["raw/modes_mean"]) == pytest.approx(7.0)
    assert float(rows[0]["raw/modes_se"]) == pytest.approx(1 / math.sqrt(3))
    assert float(rows[0]["raw/reverse_kl_mean"]) == pytest.approx(0.155)
    assert rows[0]["raw/reverse_kl_n"] == "2"


def test_report_lists_failed_trials_and_cli_writes_files(tmp_path):
    root = tmp_path / "sweep"
    make_run(str(root), "seed=0", 0, 1e-3, [8, 8], [0.9, 0.9], [0.1, 0.1])
    os.makedirs(root / "seed=1")
    (root / "seed=1" / "trial.json").write_text(json.dumps(
        {"name": "seed=1", "status": "failed", "error": "NonFiniteLossError: nan"}))
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "scripts", "report.py"), str(root),
         f"--csv={tmp_path / 't.csv'}", f"--markdown={tmp_path / 't.md'}", "--by_step"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "- seed=1: NonFiniteLossError: nan" in result.stdout
    assert (tmp_path / "t.md").read_text() == result.stdout
    assert (tmp_path / "t.csv").read_text().startswith("step,seeds,")  # By step: eval.json's.
    empty = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "report.py"),
                            str(tmp_path / "nothing")], capture_output=True, text=True)
    assert empty.returncode == 2 and "no runs" in empty.stderr


def test_an_unknown_metric_is_refused_with_the_closest_name(tmp_path):
    root = tmp_path / "sweep"
    make_run(str(root), "seed=0", 0, 1e-3, [8, 8], [0.9, 0.9], [0.1, 0.1])
    with pytest.raises(config_lib.ConfigError,
                       match="--metrics: no run under .* has the metric 'modez' .*; did "
                             "you mean 'modes'\\?"):
        report(str(root), ["modes", "modez"])
    with pytest.raises(config_lib.ConfigError, match="--percent: .* 'hq'"):
        report(str(root), ["modes"], percent=("hq",))
    assert "ema/modes" in report(str(root), ["ema/modes", "reverse_kl"])[0]
    result = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "report.py"),
                             str(root), "--metrics", "modez"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"error: --metrics: no run under {root} has the metric 'modez' (metrics there: "
        "ema/high_quality, ema/modes, ema/reverse_kl, high_quality, modes, raw/high_quality, "
        "raw/modes, raw/reverse_kl, reverse_kl); did you mean 'modes'?"]


def log_evaluations(root, name: str, evaluations: dict[int, tuple[int, float]]) -> None:
    """Appends training-time records to a run's metrics.jsonl: step -> (raw modes, ema modes),
    beside a loss record that is not an evaluation."""
    with open(os.path.join(root, name, "metrics.jsonl"), "a") as f:
        for step, (raw, ema) in evaluations.items():
            f.write(json.dumps({"step": step - 1, "d_loss": 0.7}) + "\n")
            f.write(json.dumps({"step": step, "d_loss": 0.6, "eval/raw/modes": raw,
                                "eval/raw/num_modes": 8, "eval/ema/modes": ema}) + "\n")


def test_report_by_step_tabulates_the_evaluations_logged_during_training(tmp_path):
    root = str(tmp_path)
    make_run(root, "a0", 0, 1e-3, [8, 8], [0.9, 0.9], [0.1, 0.1])  # eval.json at step 100.
    log_evaluations(root, "a0", {50: (5, 6), 100: (8, 8)})
    make_run(root, "a1", 1, 1e-3, [7, 8], [0.9, 0.9], [0.1, 0.1])
    log_evaluations(root, "a1", {50: (3, 4), 100: (7, 8)})
    make_run(root, "b0", 0, 3e-4, [6, 6], [0.9, 0.9], [0.1, 0.1])
    log_evaluations(root, "b0", {50: (2, 2), 100: (6, 6)})
    # An unfinished run of the first setting: evaluations logged, no eval.json yet.
    make_run(root, "a2", 2, 1e-3, [0, 0], [0.0, 0.0], [0.0, 0.0])
    os.remove(os.path.join(root, "a2", "eval.json"))
    log_evaluations(root, "a2", {25: (1, 1), 50: (4, 5)})

    markdown, table = report(root, metrics=["modes"], by_step=True)
    lines = markdown.splitlines()
    assert lines[0] == "| optim.d.lr | step | ema/modes | raw/modes | seeds |"
    # Settings in order of first run, steps increasing; step 100 is eval.json and the log.
    assert lines[2:] == [
        "| 0.001 | 25 | 1 | 1 | 1 |",
        "| 0.001 | 50 | 5.00 ± 0.58 | 4.00 ± 0.58 | 3 |",
        "| 0.001 | 100 | 8 ± 0 | 7.50 ± 0.50 | 2 |",
        "| 0.0003 | 50 | 2 | 2 | 1 |",
        "| 0.0003 | 100 | 6 | 6 | 1 |",
    ]
    rows = list(csv.DictReader(io.StringIO(table)))
    assert [(r["optim.d.lr"], r["step"]) for r in rows] == [
        ("0.001", "25"), ("0.001", "50"), ("0.001", "100"), ("0.0003", "50"), ("0.0003", "100")]
    assert float(rows[1]["raw/modes_mean"]) == pytest.approx(4.0)  # 5, 3, 4.

    # Without it, only finished runs' eval.json count: the table of the final step.
    final, _ = report(root, metrics=["raw/modes"])
    assert final.splitlines()[2:] == ["| 0.001 | 7.50 ± 0.50 | 2 |", "| 0.0003 | 6 | 1 |"]
