"""Figures of generated samples, written as PNG files."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # Headless: never open a window.

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def scatter_figure(
    real: np.ndarray, fakes: dict[str, np.ndarray], centres: np.ndarray, title: str,
    labels: np.ndarray | None = None, mode_counts: dict[str, np.ndarray] | None = None,
) -> Figure:
    """One panel per generator (e.g. raw and EMA): its samples over the real mixture; with
    the `labels` (modes) the samples were conditioned on, coloured by label. With each
    generator's high-quality samples per mode, `mode_counts`, the panel's title counts the
    captured modes and a red cross marks each mode without a high-quality sample."""
    extent = np.abs(centres).max() * 1.5 + 0.5
    fig, axes = plt.subplots(1, len(fakes), figsize=(4.2 * len(fakes), 4.4), squeeze=False)
    for ax, (name, fake) in zip(axes[0], fakes.items(), strict=True):
        ax.scatter(real[:, 0], real[:, 1], s=3, c="0.7", alpha=0.6, label="real", linewidths=0)
        if labels is None:
            ax.scatter(fake[:, 0], fake[:, 1], s=3, c="tab:blue", alpha=0.6, label=name,
                       linewidths=0)
        else:
            cmap = plt.get_cmap("tab10" if len(centres) <= 10 else "tab20")
            ax.scatter(fake[:, 0], fake[:, 1], s=3, c=labels % cmap.N, cmap=cmap,
                       vmin=0, vmax=cmap.N - 1, alpha=0.6, linewidths=0,
                       label=f"{name}, coloured by mode asked for")
        ax.scatter(centres[:, 0], centres[:, 1], s=80, marker="o", facecolors="none",
                   edgecolors="tab:red", linewidths=0.8, label="centres")
        panel_title = name
        if mode_counts is not None:
            missed = np.asarray(mode_counts[name]) == 0
            panel_title = f"{name}: {len(centres) - missed.sum()}/{len(centres)} modes"
            if missed.any():
                ax.scatter(centres[missed, 0], centres[missed, 1], s=140, marker="x",
                           c="tab:red", linewidths=2.0, label="no high-quality sample")
        ax.set_xlim(-extent, extent)
        ax.set_ylim(-extent, extent)
        ax.set_aspect("equal")
        ax.set_title(panel_title)
        legend = ax.legend(loc="upper right", fontsize=7)
        for handle in legend.legend_handles:  # Sample dots legible, markers their own size.
            marker = handle.get_label() in ("centres", "no high-quality sample")
            handle.set_sizes([20 if marker else 12])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path: str) -> None:
    fig.savefig(path, dpi=100)
    plt.close(fig)
