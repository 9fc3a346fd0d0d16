"""Reading published PyTorch weights once, to convert them to the `.npz` files the extractors
load (plain arrays: no pickle is ever loaded at evaluation time)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np


def read_pth(pth_path: str) -> dict[str, np.ndarray]:
    """A `.pth` state dict as NumPy arrays. Needs torch; `weights_only=True` refuses to run
    any pickled code, so only tensors are read."""
    try:
        import torch
    except ImportError as e:
        raise ImportError("converting a .pth needs torch (pip install torch) on any machine; "
                          "the .npz it writes loads without torch") from e
    state_dict = torch.load(pth_path, map_location="cpu", weights_only=True)
    return {k: v.numpy() for k, v in state_dict.items()}


def convert_main(argv: list[str], save_npz: Callable[[str, dict[str, np.ndarray]], None]
                 ) -> None:
    """`script WEIGHTS.pth OUT.npz`: reads the .pth, checks and writes the .npz."""
    if len(argv) != 3:
        sys.exit(f"usage: {argv[0]} WEIGHTS.pth OUT.npz")
    save_npz(argv[2], read_pth(argv[1]))
    print(f"wrote {argv[2]}")
