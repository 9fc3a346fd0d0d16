"""Metrics of image-to-image translations against their targets.

On uint8 outputs and targets of held-out pairs, scaled to [0, 1]:
- `l1`: mean absolute error (`dm_pix.mae`); the train loss's L1 is twice this, on [-1, 1];
- `psnr`: peak signal-to-noise ratio in dB, averaged over images (`dm_pix.psnr`);
- `ssim`: structural similarity, 11x11 Gaussian window, averaged over images (`dm_pix.ssim`);
- `sharpness`: the mean Sobel gradient magnitude of the outputs over that of the targets
  (`gan_jax.data.paired.sobel_magnitude`): 1 is as sharp as the data, below 1 is blurrier.
The feature distance `fd` of the outputs to the real targets comes from the image evaluator.
"""

from __future__ import annotations

import dm_pix
import jax.numpy as jnp
import numpy as np

from gan_jax.data.paired import sobel_magnitude

# SSIM's Gaussian window is 11 pixels; smaller images use a window their size.
SSIM_WINDOW = 11


def translation_metrics(outputs: np.ndarray, targets: np.ndarray,
                        batch_size: int = 500) -> dict[str, float]:
    """l1, psnr, ssim and sharpness of uint8 [n, H, W, C] outputs against their targets."""
    if outputs.shape != targets.shape or outputs.dtype != np.uint8:
        raise ValueError(f"expected uint8 outputs of the targets' shape {targets.shape}, got "
                         f"{outputs.dtype} {outputs.shape}")
    window = min(SSIM_WINDOW, outputs.shape[1], outputs.shape[2])
    totals = {"l1": 0.0, "psnr": 0.0, "ssim": 0.0}
    for start in range(0, outputs.shape[0], batch_size):
        a = jnp.asarray(outputs[start : start + batch_size], jnp.float32) / 255.0
        b = jnp.asarray(targets[start : start + batch_size], jnp.float32) / 255.0
        totals["l1"] += float(jnp.sum(dm_pix.mae(a, b)))
        # Identical images have infinite PSNR: cap it at 100 dB (an MSE of 1e-10).
        totals["psnr"] += float(jnp.sum(jnp.minimum(dm_pix.psnr(a, b), 100.0)))
        totals["ssim"] += float(jnp.sum(dm_pix.ssim(a, b, filter_size=window)))
    out = {name: total / outputs.shape[0] for name, total in totals.items()}
    target_edges = float(np.mean(sobel_magnitude(targets)))
    out["sharpness"] = (float(np.mean(sobel_magnitude(outputs))) / target_edges
                        if target_edges > 0 else float("nan"))
    return out
