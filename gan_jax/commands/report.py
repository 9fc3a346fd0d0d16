"""Tables of results over seeds: every run's eval.json under a directory, grouped by setting.

A run is a directory holding `config.json` and an `eval.json` with "raw" and "ema" results
(a sweep's trial, a vectorised run's replica directory, or any gan-train workdir). The
*settings* are the config keys whose values differ between runs, apart from the seed and the
keys that only say how often to log; runs with equal settings are seeds of one row. A cell is
the mean ± standard error (sample standard deviation / sqrt(n)) over that row's seeds.

By step, each run also contributes the evaluations it logged during training
(`train.eval_every`: the `eval/raw/...` and `eval/ema/...` records of `metrics.jsonl`), and
the evaluated step becomes one more setting: a learning curve over seeds.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
from typing import Any

import numpy as np

from gan_jax import config as config_lib

# Keys that differ between runs without changing what is trained or measured.
NOT_SETTINGS = (
    "seed",
    "train.num_seeds",
    "train.vectorise",
    "train.parallel",
    "train.progress_bar",
    "train.log_every",
    "train.sample_every",
    "train.checkpoint_every",
    "train.keep_checkpoints",
    "train.eval_every",
    "train.compilation_cache",
    "train.input",
    "train.device_data_limit_mb",
    "eval.cache_dir",
    "eval.batch_size",
)
# Eval entries that describe the evaluation rather than measure the generator.
NOT_METRICS = ("num_modes", "num_samples")
GENERATORS = ("raw", "ema")


@dataclasses.dataclass
class Run:
    path: str
    config: dict[str, Any]
    metrics: dict[str, float | None]
    step: int | None = None  # The evaluated step; set when reading runs by step.


@dataclasses.dataclass
class Row:
    settings: dict[str, Any]
    seeds: list[int]
    cells: dict[str, tuple[float, float, int] | None]  # metric -> (mean, s.e., n)


def find_runs(root: str, by_step: bool = False) -> tuple[list[Run], list[dict[str, Any]]]:
    """Every run under `root` (sorted by path, then step), and the trial.json records of
    failed trials. By step, a run is one Run per evaluated step, from its final eval.json and
    the evaluations in its metrics.jsonl (so an unfinished run counts too)."""
    runs, failures = [], []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in ("checkpoints", "tensorboard",
                                                            "samples"))
        if "trial.json" in files:
            with open(os.path.join(directory, "trial.json")) as f:
                record = json.load(f)
            if record.get("status") == "failed":
                failures.append(record)
        if "config.json" not in files:
            continue
        evaluations = {}  # step -> {"raw": {...}, "ema": {...}}
        if "eval.json" in files:
            with open(os.path.join(directory, "eval.json")) as f:
                results = json.load(f)
            if all(g in results for g in GENERATORS):  # Not a vectorised run's summary.
                evaluations[results.get("step")] = results
        if by_step and "metrics.jsonl" in files:
            evaluations.update(_logged_evaluations(os.path.join(directory, "metrics.jsonl")))
        if not evaluations:
            continue
        with open(os.path.join(directory, "config.json")) as f:
            saved = config_lib.from_json(f.read())  # Older runs: new keys take defaults.
        config = config_lib.flatten(config_lib.with_defaults(saved, config_lib.base_config()))
        for step, results in sorted(evaluations.items(), key=lambda item: item[0] or 0):
            metrics = {
                f"{generator}/{name}": value
                for generator in GENERATORS
                for name, value in results[generator].items()
                if name not in NOT_METRICS and (value is None or isinstance(value, int | float))
            }
            runs.append(Run(directory, config, metrics, step if by_step else None))
    return sorted(runs, key=lambda r: (r.path, r.step or 0)), failures


def _logged_evaluations(path: str) -> dict[int, dict[str, dict[str, Any]]]:
    """The in-training evaluations of a metrics.jsonl, by step."""
    evaluations = {}
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            record = json.loads(line)
            results = {g: {} for g in GENERATORS}
            for key, value in record.items():
                parts = key.split("/", 2)
                if len(parts) == 3 and parts[0] == "eval" and parts[1] in results:
                    results[parts[1]][parts[2]] = value
            if any(results.values()):
                evaluations[record["step"]] = results
    return evaluations


def swept_keys(runs: list[Run], ignore: tuple[str, ...] = ()) -> list[str]:
    """The config keys whose values differ between runs (the settings of the table), apart
    from NOT_SETTINGS and `ignore`."""
    keys = sorted({k for run in runs for k in run.config})
    return [k for k in keys if k not in NOT_SETTINGS and k not in ignore
            and len({json.dumps(run.config.get(k), sort_keys=True) for run in runs}) > 1]


def mean_and_error(values: list[float]) -> tuple[float, float, int]:
    """(mean, standard error of the mean, n); the error is NaN for a single value."""
    array = np.asarray(values, np.float64)
    n = len(array)
    error = float(np.std(array, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return float(np.mean(array)), error, n


def aggregate(runs: list[Run], metrics: list[str] | None = None,
              ignore: tuple[str, ...] = ()) -> tuple[list[str], list[Row]]:
    """Groups runs by their settings; returns (setting keys, rows in order of first run).
    Runs read by step have the evaluated step as their last setting, "step"."""
    keys = swept_keys(runs, ignore)
    by_step = any(run.step is not None for run in runs)
    names = sorted({m for run in runs for m in run.metrics})
    if metrics:
        names = [n for n in names if n in metrics or n.split("/", 1)[1] in metrics]
    groups: dict[tuple[str, int | None], list[Run]] = {}  # (settings, step) -> seeds.
    for run in runs:
        settings = json.dumps({k: run.config.get(k) for k in keys}, sort_keys=True)
        groups.setdefault((settings, run.step), []).append(run)
    if by_step:  # Settings in order of first run, each one's steps in increasing order.
        first: dict[str, int] = {}
        for settings, _ in groups:
            first.setdefault(settings, len(first))
        groups = dict(sorted(groups.items(), key=lambda item: (first[item[0][0]], item[0][1] or 0)))
    rows = []
    for (_, step), members in groups.items():
        cells = {}
        for name in names:
            values = [r.metrics[name] for r in members if r.metrics.get(name) is not None]
            cells[name] = mean_and_error(values) if values else None
        settings = {k: members[0].config.get(k) for k in keys}
        rows.append(Row(settings={**settings, "step": step} if by_step else settings,
                        seeds=sorted(r.config.get("seed") for r in members), cells=cells))
    return ([*keys, "step"] if by_step else keys), rows


def format_cell(cell: tuple[float, float, int] | None, seeds: int, scale: float = 1.0) -> str:
    """`mean ± s.e.`, to the precision the error supports; `(n=k)` when some seeds lack it."""
    if cell is None:
        return "—"
    mean, error, n = cell[0] * scale, cell[1] * scale, cell[2]
    if math.isnan(error) or error == 0:
        text = f"{mean:.4g}" if math.isnan(error) else f"{mean:.4g} ± 0"
    else:
        decimals = min(6, max(0, 1 - math.floor(math.log10(error))))
        text = f"{mean:.{decimals}f} ± {error:.{decimals}f}"
    return text if n == seeds else f"{text} (n={n})"


def markdown_table(keys: list[str], rows: list[Row], percent: tuple[str, ...] = ()) -> str:
    names = list(rows[0].cells) if rows else []

    def label(name):
        return f"{name} (%)" if _is_percent(name, percent) else name

    header = [*keys, *[label(n) for n in names], "seeds"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [format_cell(row.cells[n], len(row.seeds), 100.0 if _is_percent(n, percent)
                             else 1.0) for n in names]
        settings = [_format_setting(row.settings[k]) for k in keys]
        lines.append("| " + " | ".join([*settings, *cells, str(len(row.seeds))]) + " |")
    return "\n".join(lines) + "\n"


def csv_table(keys: list[str], rows: list[Row]) -> str:
    names = list(rows[0].cells) if rows else []
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*keys, "seeds", *[f"{n}_{s}" for n in names for s in ("mean", "se", "n")]])
    for row in rows:
        values = []
        for name in names:
            cell = row.cells[name]
            values += list(cell) if cell is not None else ["", "", 0]
        writer.writerow([*[_format_setting(row.settings[k]) for k in keys],
                         len(row.seeds), *values])
    return out.getvalue()


def _is_percent(name: str, percent: tuple[str, ...]) -> bool:
    return name in percent or name.split("/", 1)[-1] in percent


def _format_setting(value: Any) -> str:
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def check_metric_names(requested: list[str], known: list[str], flag: str, root: str) -> None:
    """Raises ConfigError for a requested metric that no run under `root` has, with the
    closest name (a metric may be named with or without its generator, as `ema/modes`)."""
    names = sorted(set(known) | {name.split("/", 1)[-1] for name in known})
    for name in requested:
        if name not in names:
            listed = f" (metrics there: {', '.join(names)})" if len(names) <= 16 else ""
            raise config_lib.ConfigError(
                f"{flag}: no run under {root} has the metric {name!r}{listed}"
                f"{config_lib.did_you_mean(name, names)}")


def report(root: str, metrics: list[str] | None = None, percent: tuple[str, ...] = (),
           ignore: tuple[str, ...] = (), by_step: bool = False) -> tuple[str, str]:
    """(markdown, csv) tables of every run under `root`; failed trials are listed below the
    markdown table. Config keys in `ignore` never make rows (e.g. an evaluation setting that
    changed between runs without changing what was measured). `by_step` adds a row per
    evaluated step, from the evaluations logged during training."""
    runs, failures = find_runs(root, by_step)
    if not runs:
        raise FileNotFoundError(f"{root}: no runs (directories with config.json and eval.json"
                                + (" or evaluations in metrics.jsonl)" if by_step else ")"))
    known = sorted({m for run in runs for m in run.metrics})
    check_metric_names(metrics or [], known, "--metrics", root)
    check_metric_names(list(percent), known, "--percent", root)
    keys, rows = aggregate(runs, metrics, ignore)
    markdown = markdown_table(keys, rows, percent)
    if failures:
        markdown += "\nFailed trials:\n" + "".join(
            f"- {f.get('name')}: {f.get('error')}\n" for f in failures)
    return markdown, csv_table(keys, rows)
