"""Tabulates and plots the gamma study: FD and KID (raw and EMA generators) against gamma,
mean +- standard error over seeds, for the vectorised sweep and the same trials run one after
another; the wall times; a grid of each gamma's seed-10 samples. The plot and the grid show
the raw generator: after 300 steps the EMA (decay 0.999, a half-life of 693 steps) is still
mostly its initial weights.

    python experiments/gamma_sweep/summarise.py sweeps/gamma experiments/gamma_sweep
"""

import csv
import glob
import json
import os
import sys

import matplotlib
import numpy as np
from PIL import Image

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TAIL = "fashion_mnist_cnn_n2000"
METRICS = {"fd": f"fd_{TAIL}_test", "kid": f"kid_{TAIL}_test"}
MODES = ("vectorised", "one_by_one")
GRID_SEED = 10


def mean_se(values):
    values = np.asarray(values, np.float64)
    se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else float("nan")
    return float(values.mean()), float(se)


def runs(root: str, mode: str):
    """(gamma, seed, eval, run dir) of every finished run under root/mode."""
    found = []
    for path in glob.glob(os.path.join(root, mode, "**", "eval.json"), recursive=True):
        with open(path) as f:
            evaluated = json.load(f)
        if "raw" not in evaluated:  # A vectorised run's summary.
            continue
        with open(os.path.join(os.path.dirname(path), "config.json")) as f:
            config = json.load(f)
        found.append((config["loss"]["r1_weight"], config["seed"], evaluated,
                      os.path.dirname(path)))
    return sorted(found, key=lambda r: (r[0], r[1]))


def main(root: str, out: str) -> None:
    rows, by_mode = [], {}
    for mode in MODES:
        found = runs(root, mode)
        by_mode[mode] = found
        for gamma in sorted({g for g, *_ in found}):
            chosen = [r for r in found if r[0] == gamma]
            row = {"mode": mode, "gamma": gamma, "seeds": ",".join(str(r[1]) for r in chosen)}
            for generator in ("raw", "ema"):
                for name, key in METRICS.items():
                    mean, se = mean_se([r[2][generator][key] for r in chosen])
                    row[f"{generator}_{name}"], row[f"{generator}_{name}_se"] = mean, se
            rows.append(row)
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for r in rows:
        print(f"| {r['mode']} | {r['gamma']:g} | {r['seeds']} | "
              + " | ".join(f"{r[f'{g}_{m}']:.4g} ± {r[f'{g}_{m}_se']:.2g}"
                           for g in ("raw", "ema") for m in METRICS) + " |")
    with open(os.path.join(root, "wall_seconds.csv")) as f:
        print("wall seconds:", f.read().strip().replace("\n", "; "))

    figure, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for axis, name in zip(axes, METRICS, strict=True):
        for mode, marker in zip(MODES, ("o", "s"), strict=True):
            chosen = [r for r in rows if r["mode"] == mode]
            gammas = np.array([r["gamma"] for r in chosen])
            offset = 1.0 if mode == "vectorised" else 1.08  # Side by side on the log axis.
            axis.errorbar(gammas * offset, [r[f"raw_{name}"] for r in chosen],
                          yerr=[r[f"raw_{name}_se"] for r in chosen], marker=marker,
                          capsize=3, label=mode.replace("_", " "))
        axis.set_xscale("log")
        axis.set_xlabel("gamma (R1 and R2 weight)")
        axis.set_ylabel(f"{name} (raw G, Fashion classifier features)")
        axis.grid(alpha=0.3)
    axes[0].legend()
    figure.suptitle("rpgan + R1 + R2, DCGAN on Fashion-MNIST, 300 steps, mean ± s.e. of 3 seeds",
                    fontsize=9)
    figure.tight_layout()
    figure.savefig(os.path.join(out, "fd_kid_vs_gamma.png"), dpi=120)

    tiles = []
    for gamma, seed, _, run_dir in by_mode["vectorised"]:
        if seed == GRID_SEED:
            grid = sorted(glob.glob(os.path.join(run_dir, "samples", "step_*_raw.png")))[-1]
            tiles.append((gamma, Image.open(grid).convert("L")))
    figure, axes = plt.subplots(1, len(tiles), figsize=(2.2 * len(tiles), 2.5))
    for axis, (gamma, image) in zip(axes, tiles, strict=True):
        axis.imshow(image, cmap="gray")
        axis.set_title(f"gamma {gamma:g}", fontsize=9)
        axis.axis("off")
    figure.tight_layout()
    figure.savefig(os.path.join(out, f"samples_seed{GRID_SEED}.png"), dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
