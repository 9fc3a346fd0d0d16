"""Image grids: generator outputs in [-1, 1] -> one uint8 picture, saved as PNG with Pillow."""

from __future__ import annotations

import math
import os

import numpy as np
from PIL import Image

from gan_jax.data.images import to_uint8


def make_grid(images: np.ndarray, columns: int | None = None, padding: int = 2,
              pad_value: int = 255) -> np.ndarray:
    """[n, H, W, C] images in [-1, 1] -> a uint8 [rows*(H+p)+p, cols*(W+p)+p, C] grid, filled
    row by row; `columns` defaults to a near-square layout."""
    images = to_uint8(images)
    n, h, w, c = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    grid = np.full((rows * (h + padding) + padding, columns * (w + padding) + padding, c),
                   pad_value, np.uint8)
    for i, image in enumerate(images):
        top = padding + (i // columns) * (h + padding)
        left = padding + (i % columns) * (w + padding)
        grid[top : top + h, left : left + w] = image
    return grid


def save_png(grid: np.ndarray, path: str) -> None:
    """Writes a uint8 [H, W, 1 or 3] array as a PNG, atomically."""
    picture = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
    tmp = f"{path}.tmp"
    picture.save(tmp, format="PNG")
    os.replace(tmp, path)


def triplet_grid(inputs: np.ndarray, outputs: np.ndarray, targets: np.ndarray | None = None,
                 per_row: int = 2) -> np.ndarray:
    """uint8 [n, H, W, C] inputs, outputs (and targets) -> one uint8 grid of `per_row`
    input | output | target groups per row (grey inputs shown as RGB beside RGB outputs)."""
    groups = [inputs, outputs] + ([] if targets is None else [targets])
    channels = max(g.shape[-1] for g in groups)
    groups = [np.repeat(g, channels, -1) if g.shape[-1] != channels else g for g in groups]
    images = np.stack(groups, axis=1).reshape(-1, *groups[0].shape[1:])
    return make_grid(images.astype(np.float32) / 127.5 - 1.0, per_row * len(groups))
