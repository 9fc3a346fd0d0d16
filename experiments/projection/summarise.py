"""Tabulates the projection study (mean +- standard error over the targets of each method's
final pixel MSE and feature distance) into results.csv, and draws the first 8 targets above
their projections by each method (projections.png).

    python experiments/projection/summarise.py workdirs/projection experiments/projection
"""

import csv
import os
import sys

import numpy as np
from PIL import Image

from gan_jax.runs import grids

METHODS = {"stylegan2_w": "StyleGAN2, w", "stylegan2_w+": "StyleGAN2, w+",
           "dcgan_z": "DCGAN, z"}
SHOWN = 8


def main(root: str, out: str) -> None:
    rows, pictures = [], []
    names = None
    for method, label in METHODS.items():
        saved = np.load(os.path.join(root, method, "projection.npz"))
        names = list(saved["names"])
        for metric in ("pixel", "feature"):
            values = saved[metric]
            rows.append({"method": label, "metric": metric, "n": len(values),
                         "mean": float(values.mean()),
                         "se": float(values.std(ddof=1) / np.sqrt(len(values)))})
        pictures.append([np.asarray(Image.open(os.path.join(root, method, f"{n}.png")))
                         for n in names[:SHOWN]])
    targets = [np.asarray(Image.open(os.path.join(root, "targets", f"{n}.png")).resize(
        pictures[0][0].shape[1::-1], Image.Resampling.BICUBIC)) for n in names[:SHOWN]]
    stack = np.stack([targets] + pictures).reshape(-1, *pictures[0][0].shape)
    images = stack[..., None] if stack.ndim == 3 else stack
    grid = grids.make_grid(images.astype(np.float32) / 127.5 - 1.0, SHOWN)
    grids.save_png(grid, os.path.join(out, "projections.png"))
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for row in rows:
        print(f"{row['method']:16s} {row['metric']:8s} {row['mean']:.4f} +- {row['se']:.4f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
