"""Metric logging to `metrics.jsonl` and TensorBoard, from one call."""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from tensorboardX import SummaryWriter


def write_json_atomic(path: str, obj: Any) -> None:
    """Writes `obj` as JSON through a temporary file, so readers never see half a file."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def truncate_jsonl(path: str, last_step: int) -> None:
    """Drops records logged after `last_step`: a resumed run logs those steps again."""
    if not os.path.exists(path):
        return
    with open(path) as f:
        lines = [line for line in f if line.strip()]
    kept = [line for line in lines if json.loads(line).get("step", 0) <= last_step]
    if len(kept) != len(lines):
        tmp = f"{path}.tmp"
        with open(tmp, "w") as f:
            f.writelines(kept)
        os.replace(tmp, path)


class MetricWriter:
    """Appends one JSON object per logging step and mirrors the scalars to TensorBoard."""

    def __init__(self, workdir: str, start_step: int = 0):
        self.jsonl_path = os.path.join(workdir, "metrics.jsonl")
        truncate_jsonl(self.jsonl_path, start_step)
        self._jsonl = open(self.jsonl_path, "a")  # noqa: SIM115 - closed in close().
        self._tb = SummaryWriter(os.path.join(workdir, "tensorboard"), purge_step=start_step + 1)

    def write_scalars(self, step: int, scalars: dict[str, Any]) -> None:
        record = {"step": int(step), **{k: _to_json(v) for k, v in scalars.items()}}
        self._jsonl.write(json.dumps(record) + "\n")
        self._jsonl.flush()
        for key, value in record.items():
            if key != "step" and isinstance(value, (int, float)):
                self._tb.add_scalar(key, value, step)

    def write_figure(self, step: int, tag: str, fig: Figure) -> None:
        self._tb.add_figure(tag, fig, step, close=False)

    def write_image(self, step: int, tag: str, image: np.ndarray) -> None:
        """A uint8 [H, W, C] picture (e.g. a sample grid)."""
        self._tb.add_image(tag, image, step, dataformats="HWC")

    def close(self) -> None:
        self._jsonl.close()
        self._tb.close()


def _to_json(value: Any) -> Any:
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    return float(value)


class NullWriter:
    """The writer of processes other than 0, which write nothing."""

    def write_scalars(self, step: int, scalars: dict[str, Any]) -> None:
        del step, scalars

    def write_figure(self, step: int, tag: str, fig: Figure) -> None:
        del step, tag, fig

    def write_image(self, step: int, tag: str, image: np.ndarray) -> None:
        del step, tag, image

    def close(self) -> None:
        pass
