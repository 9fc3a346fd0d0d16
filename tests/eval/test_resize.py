"""The resize modes against the functions that define them: TensorFlow's own resizes, PIL, and
clean-fid's `make_resizer` when it is installed."""

from __future__ import annotations

import numpy as np
import pytest

from gan_jax.config.registry import ConfigError
from gan_jax.eval import inception, resize
from gan_jax.eval.extractors import build_extractor, check_resize

SIZES = [(28, 28), (32, 32), (64, 48), (320, 320)]


def uint8_images(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (2, *shape, 3), dtype=np.uint8)


@pytest.mark.parametrize("shape", SIZES)
def test_legacy_tensorflow_is_tensorflow_1s_bilinear_resize(shape):
    tf = pytest.importorskip("tensorflow", reason="the reference is TensorFlow's own resize")
    images = uint8_images(shape).astype(np.float32)
    expected = tf.compat.v1.image.resize_bilinear(images, (299, 299), align_corners=False,
                                                   half_pixel_centers=False).numpy()
    # Both interpolate in float32; the order of the two lerps may differ by rounding.
    np.testing.assert_allclose(resize.legacy_tensorflow(images, (299, 299)), expected,
                               atol=2e-3)


@pytest.mark.parametrize("shape", SIZES)
def test_legacy_pytorch_is_the_half_pixel_bilinear_resize(shape):
    """TensorFlow 2's bilinear resize without antialiasing uses half-pixel centres, as
    PyTorch's interpolate(align_corners=False) does: an independent implementation."""
    tf = pytest.importorskip("tensorflow", reason="the reference is TensorFlow's own resize")
    images = uint8_images(shape, 1).astype(np.float32)
    expected = tf.image.resize(images, (299, 299), "bilinear", antialias=False).numpy()
    # Weights computed another way, in float32: within 1/200 of a grey level.
    np.testing.assert_allclose(resize.legacy_pytorch(images, (299, 299)), expected, atol=5e-3)
    # And the modes differ: corner alignment moves whole grey levels.
    legacy_tf = np.asarray(resize.legacy_tensorflow(images, (299, 299)))
    assert float(np.max(np.abs(legacy_tf - expected))) > 5.0


@pytest.mark.parametrize("shape", SIZES)
def test_clean_is_pil_bicubic_per_channel_in_float(shape):
    from PIL import Image

    images = uint8_images(shape, 2)
    out = resize.clean(images, (299, 299))
    assert out.dtype == np.float32 and out.shape == (2, 299, 299, 3)
    channel = Image.fromarray(images[1, ..., 2].astype(np.float32), mode="F")
    expected = np.clip(np.asarray(channel.resize((299, 299), Image.Resampling.BICUBIC)), 0, 255)
    np.testing.assert_array_equal(out[1, ..., 2], expected)


def test_clean_antialiases_where_tensorflow_1s_resize_aliases():
    """A one-pixel checkerboard shrunk 4x: antialiased bicubic averages it to mid-grey;
    TensorFlow 1's resize samples every fourth pixel, all of one colour."""
    board = (np.indices((64, 64)).sum(0) % 2 * 255).astype(np.uint8)
    images = np.repeat(board[None, ..., None], 3, -1)
    np.testing.assert_allclose(resize.clean(images, (16, 16))[0, 2:-2, 2:-2], 127.5, atol=2.0)
    sampled = np.asarray(resize.legacy_tensorflow(images.astype(np.float32), (16, 16)))
    assert set(np.unique(sampled)) <= {0.0, 255.0}


@pytest.mark.parametrize("mode", resize.RESIZE_MODES)
@pytest.mark.parametrize("shape", [(32, 32), (64, 64)])
def test_each_mode_matches_clean_fid(mode, shape):
    cleanfid_resize = pytest.importorskip(
        "cleanfid.resize", reason="clean-fid (and the torch it imports) is not installed")
    images = uint8_images(shape, 3)
    resizer = cleanfid_resize.build_resizer(mode)
    expected = np.stack([resizer(image) for image in images])
    if mode == "legacy_tensorflow":  # clean-fid resizes inside its network; compare that.
        pytest.skip("clean-fid's legacy_tensorflow resize runs inside its TorchScript network")
    ours = (resize.clean(images, (299, 299)) if mode == "clean"
            else np.asarray(resize.legacy_pytorch(images.astype(np.float32), (299, 299))))
    np.testing.assert_allclose(ours, expected, atol=1e-3)


def test_preprocess_scales_each_mode_as_clean_fid():
    images = np.full((1, 299, 299, 3), 255.0, np.float32)
    assert float(inception.preprocess(images).max()) == pytest.approx(1.0)
    assert float(inception.preprocess(images, "legacy_tensorflow").max()) == pytest.approx(
        127 / 128)


def test_bad_modes_are_refused_in_one_line():
    with pytest.raises(ConfigError, match="eval.resize: unknown resize mode 'cleam'; did "
                                          "you mean 'clean'"):
        check_resize("inception_v3", "cleam")
    with pytest.raises(ConfigError, match="eval.resize: 'clean' applies to the extractors"):
        check_resize("classifier", "clean")
    with pytest.raises(ConfigError, match="eval.resize"):
        build_extractor("classifier", "nowhere", "clean")


def test_the_mode_names_the_extractor(tmp_path):
    from tests.eval.test_inception import synthetic_state_dict

    path = str(tmp_path / "inception.npz")
    inception.save_npz(path, synthetic_state_dict())
    from gan_jax.eval.extractors import load_inception

    extractors = {mode: load_inception(path, mode) for mode in resize.RESIZE_MODES}
    assert [e.name for e in extractors.values()] == ["inception_v3", "inception_v3_clean",
                                                    "inception_v3_legacy_tensorflow"]
    assert len({e.fingerprint for e in extractors.values()}) == 3
    assert load_inception(path).fingerprint == extractors["legacy_pytorch"].fingerprint
    # The host-resized mode runs end to end (the device modes' resizes are tested above).
    features = extractors["clean"](uint8_images((32, 32), 4)).features
    assert features.shape == (2, 2048) and np.isfinite(features).all()
