"""Tabulates the backbone study: mean +- standard error over seeds of each family and variant,
from every run's eval.json, with the budget's steps, images and step rate; copies each seed-0
raw grid beside this file.

    python experiments/backbones/summarise.py sweeps/backbones experiments/backbones
"""

import csv
import glob
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import backbone_budget as budget  # noqa: E402

TAIL = "fashion_mnist_cnn_n5000"
METRICS = {"fd": f"fd_{TAIL}_test", "kid": f"kid_{TAIL}_test",
           "precision": f"precision_{TAIL}_test", "recall": f"recall_{TAIL}_test",
           "class_accuracy": f"class_accuracy_{TAIL}", "intra_fd": f"intra_fd_{TAIL}_test"}
FAMILIES = ("dcgan", "sngan", "biggan", "stylegan2", "r3gan")


def mean_se(values):
    values = np.asarray(values, np.float64)
    se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else float("nan")
    return float(values.mean()), float(se)


def main(root: str, out: str) -> None:
    rows = []
    for family in FAMILIES:
        for condition in budget.CONDITIONS:
            runs = sorted(glob.glob(os.path.join(root, family,
                                                 f"model.condition={condition},*")))
            results = []
            for run in runs:
                path = os.path.join(run, "eval.json")
                if not os.path.exists(path):
                    continue
                with open(path) as f:
                    evaluated = json.load(f)
                with open(os.path.join(run, "config.json")) as f:
                    config = json.load(f)
                results.append((config["seed"], evaluated, config))
                if config["seed"] == 0:
                    grid = glob.glob(os.path.join(run, "samples", "step_*_raw.png"))[-1]
                    shutil.copy(grid, os.path.join(out, f"{family}_{condition}_seed0.png"))
            if not results:
                continue
            config = results[0][2]
            steps = config["train"]["num_steps"]
            row = {"family": family, "condition": condition,
                   "seeds": ",".join(str(s) for s, _, _ in results), "steps": steps,
                   "images_seen": steps * config["train"]["batch_size"],
                   "steps_per_s": round(1 / budget.SECONDS_PER_STEP[family, condition], 2)}
            for name, key in METRICS.items():
                values = [e["raw"][key] for _, e, _ in results if key in e["raw"]]
                if values:
                    row[name], row[f"{name}_se"] = mean_se(values)
            row["ema_fd"], row["ema_fd_se"] = mean_se(
                [e["ema"][METRICS["fd"]] for _, e, _ in results])
            rows.append(row)
    fields = sorted({k for r in rows for k in r}, key=lambda k: list(rows[-1]).index(k)
                    if k in rows[-1] else 99)
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    for r in rows:
        cells = [f"{r['family']}", r["condition"], r["seeds"], str(r["steps"]),
                 f"{r['images_seen']:,}"]
        for name in ("fd", "kid", "precision", "recall", "ema_fd", "class_accuracy",
                     "intra_fd"):
            cells.append(f"{r[name]:.3g} ± {r[name + '_se']:.2g}" if name in r else "—")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
