"""Figures of generated samples, written as PNG files."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # Headless: never open a window.

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def scatter_figure(
    real: np.ndarray, fakes: dict[str, np.ndarray], centres: np.ndarray, title: str,
    labels: np.ndarray | None = None,
) -> Figure:
    """One panel per generator (e.g. raw and EMA): its samples over the real mixture; with
    the `labels` (modes) the samples were conditioned on, coloured by label."""
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
        ax.set_xlim(-extent, extent)
        ax.set_ylim(-extent, extent)
        ax.set_aspect("equal")
        ax.set_title(name)
        legend = ax.legend(loc="upper right", fontsize=7)
        for handle in legend.legend_handles:  # Sample dots legible, centres their own size.
            handle.set_sizes([20 if handle.get_label() == "centres" else 12])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path: str) -> None:
    fig.savefig(path, dpi=100)
    plt.close(fig)
