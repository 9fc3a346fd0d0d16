"""Translation metrics: their limits by hand, and scikit-image's PSNR and SSIM."""

from __future__ import annotations

import numpy as np
import pytest

from gan_jax.eval.translation import translation_metrics


def noisy_pairs(seed: int, shape=(4, 32, 32, 3), spread: int = 40):
    rng = np.random.default_rng(seed)  # A local, seeded generator: test data only.
    targets = rng.integers(0, 256, shape, dtype=np.uint8)
    noise = rng.integers(-spread, spread + 1, shape)
    return np.clip(targets.astype(int) + noise, 0, 255).astype(np.uint8), targets


def test_identical_images_and_a_constant_offset():
    _, targets = noisy_pairs(0)
    same = translation_metrics(targets, targets)
    assert same == pytest.approx({"l1": 0.0, "psnr": 100.0, "ssim": 1.0, "sharpness": 1.0})
    shifted = np.clip(targets.astype(int) + 51, 0, 255).astype(np.uint8)
    inside = targets < 255 - 51  # Only those pixels move by exactly 51 = 0.2 of the range.
    offset = translation_metrics(np.where(inside, shifted, targets), targets)
    assert offset["l1"] == pytest.approx(0.2 * inside.mean(), rel=1e-5)


def test_bad_inputs_are_refused():
    outputs, targets = noisy_pairs(1)
    with pytest.raises(ValueError, match="expected uint8 outputs of the targets' shape"):
        translation_metrics(outputs[:2], targets)
    with pytest.raises(ValueError, match="float32"):
        translation_metrics(outputs.astype(np.float32), targets)


@pytest.mark.parametrize("shape", [(3, 32, 32, 3), (3, 28, 28, 1)])
def test_psnr_and_ssim_equal_scikit_image(shape):
    metrics = pytest.importorskip("skimage.metrics",
                                  reason="scikit-image is not installed (the reference extra)")
    outputs, targets = noisy_pairs(2, shape)
    ours = translation_metrics(outputs, targets)
    pairs = [(o / 255.0, t / 255.0) for o, t in zip(outputs.astype(np.float64),
                                                    targets.astype(np.float64), strict=True)]
    # SSIM as Wang et al. and dm-pix define it: an 11 x 11 Gaussian window of sigma 1.5,
    # population statistics, per channel, mean over the valid region.
    ssim = np.mean([metrics.structural_similarity(
        o, t, channel_axis=-1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        data_range=1.0) for o, t in pairs])
    psnr = np.mean([metrics.peak_signal_noise_ratio(t, o, data_range=1.0) for o, t in pairs])
    # float32 here, float64 there: 1e-6 of values of order 1 and 20 dB.
    assert ours["ssim"] == pytest.approx(ssim, abs=1e-6)
    assert ours["psnr"] == pytest.approx(psnr, rel=1e-6)
