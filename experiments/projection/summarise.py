"""Tabulates the projection study (mean +- standard error over the targets of each method's
final pixel MSE as optimised, its MSE over the 28x28 garment area, and feature distance) into
results.csv, and draws the first 8 targets above
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
        # The squared error over the 28x28 garment area in [-1, 1], from the written PNGs: a
        # padded run's 2-pixel black border is cropped, so every method is measured alike.
        garment = []
        for n in names:
            image = np.asarray(Image.open(os.path.join(root, method, f"{n}.png")), np.float64)
            target = np.asarray(Image.open(os.path.join(root, "targets", f"{n}.png")),
                                np.float64)
            border = (image.shape[0] - target.shape[0]) // 2
            if border:
                image = image[border:-border, border:-border]
            garment.append(np.mean(np.square((image - target) / 127.5)))
        measured = {"pixel": saved["pixel"], "feature": saved["feature"],
                    "pixel_28x28": np.asarray(garment)}
        for metric, values in measured.items():
            rows.append({"method": label, "metric": metric, "n": len(values),
                         "mean": float(values.mean()),
                         "se": float(values.std(ddof=1) / np.sqrt(len(values)))})
        pictures.append([np.asarray(Image.open(os.path.join(root, method, f"{n}.png")))
                         for n in names[:SHOWN]])
    targets = [np.asarray(Image.open(os.path.join(root, "targets", f"{n}.png")))
               for n in names[:SHOWN]]
    strips = [targets] + pictures
    size = max(image.shape[0] for strip in strips for image in strip)
    # 28x28 images (the targets, DCGAN's) padded to 32x32 as the StyleGAN2 run's data was.
    stack = np.stack([[np.pad(image, (size - image.shape[0]) // 2) for image in strip]
                      for strip in strips]).reshape(-1, size, size)
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
