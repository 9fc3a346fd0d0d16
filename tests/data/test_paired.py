"""Paired data: aligned and two-folder reading, the shared jitter, derived pairs, bad input."""

import os

import jax
import numpy as np
import pytest
from PIL import Image

from gan_jax.config.registry import ConfigError
from gan_jax.data.paired import (
    aligned_folder,
    edge_map,
    hide_lower_half,
    jitter,
    paired_folders,
)

LOAD = 12


def position_image() -> np.ndarray:
    """uint8 [LOAD, LOAD]: each pixel holds its own index y * LOAD + x."""
    return np.arange(LOAD * LOAD, dtype=np.uint8).reshape(LOAD, LOAD)


def write_aligned(root, num: int = 4, split: str = "train") -> str:
    """root/<split>/<i>.png: A (pixel positions + i) | B (255 - A)."""
    folder = os.path.join(str(root), split)
    os.makedirs(folder, exist_ok=True)
    for i in range(num):
        a = position_image() + i
        Image.fromarray(np.concatenate([a, 255 - a], axis=1)).save(f"{folder}/{i}.png")
    return str(root)


def test_aligned_halves_split_and_direction_swaps_them(tmp_path):
    path = write_aligned(tmp_path)
    arrays = aligned_folder(path, load_size=LOAD, crop_size=LOAD, channels=1).load()
    assert arrays["inputs"].shape == arrays["targets"].shape == (4, LOAD, LOAD, 1)
    np.testing.assert_array_equal(arrays["inputs"][2, ..., 0], position_image() + 2)
    np.testing.assert_array_equal(arrays["targets"][2, ..., 0], 255 - position_image() - 2)
    swapped = aligned_folder(path, direction="BtoA", load_size=LOAD, crop_size=LOAD,
                             channels=1).load()
    np.testing.assert_array_equal(swapped["inputs"], arrays["targets"])
    np.testing.assert_array_equal(swapped["targets"], arrays["inputs"])


def test_the_same_crop_and_flip_land_on_input_and_target(tmp_path):
    dataset = aligned_folder(write_aligned(tmp_path), load_size=LOAD, crop_size=8, channels=1,
                             random_flip=True)
    data = dataset.device_data(jax.random.PRNGKey(0), 4)
    corners, flips = set(), set()
    for b in range(8):
        batch = dataset.sample(data, jax.random.PRNGKey(b), b, 4)
        inputs = np.rint((np.asarray(batch["condition"]) + 1) * 127.5).astype(int)[..., 0]
        targets = np.rint((np.asarray(batch["x"]) + 1) * 127.5).astype(int)[..., 0]
        assert inputs.shape == (4, 8, 8)
        np.testing.assert_array_equal(targets, 255 - inputs)  # The same window, same flip.
        for crop in inputs:
            offset = crop - crop.min()  # Position indices relative to the window's minimum.
            flipped = crop[0, 0] > crop[0, -1]
            np.testing.assert_array_equal(offset, (np.arange(8)[:, None] * LOAD + (
                np.arange(8)[::-1] if flipped else np.arange(8))[None]))
            corners.add(int(crop.min()))
            flips.add(bool(flipped))
    assert len(corners) > 4 and flips == {True, False}  # The jitter varies.


def test_jitter_is_a_function_of_the_key():
    images = jax.random.randint(jax.random.PRNGKey(0), (3, 10, 10, 2), 0, 255).astype(
        np.uint8)
    a = jitter(jax.random.PRNGKey(1), images[..., :1], images[..., 1:], 8, True)
    b = jitter(jax.random.PRNGKey(1), images[..., :1], images[..., 1:], 8, True)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_two_folders_pair_by_name(tmp_path):
    for side, value in (("in", 10), ("out", 200)):
        os.makedirs(tmp_path / side / "train")
        for name in ("x.png", "y.png"):
            Image.fromarray(np.full((6, 6, 3), value, np.uint8)).save(
                tmp_path / side / "train" / name)
    dataset = paired_folders(str(tmp_path / "in"), str(tmp_path / "out"), load_size=8,
                             crop_size=8, target_channels=1)
    arrays = dataset.load()
    assert arrays["inputs"].shape == (2, 8, 8, 3) and arrays["targets"].shape == (2, 8, 8, 1)
    assert np.all(arrays["inputs"] == 10) and np.all(arrays["targets"] == 200)


def test_bad_pairs_get_one_clear_error(tmp_path):
    root = write_aligned(tmp_path / "aligned")
    with pytest.raises(ConfigError, match="data.direction: 'AtoC' is not one of AtoB, BtoA"):
        aligned_folder(root, direction="AtoC")
    Image.fromarray(np.zeros((4, 7), np.uint8)).save(tmp_path / "aligned" / "train" / "odd.png")
    with pytest.raises(ConfigError, match="odd.png has odd width 7"):
        aligned_folder(root)
    os.makedirs(tmp_path / "aligned" / "val")
    with pytest.raises(ConfigError, match="val holds no images"):
        aligned_folder(root, split="val")
    with pytest.raises(ConfigError, match="no folder .*test.* \\(found: train, val\\)"):
        aligned_folder(root, split="test")
    for side in ("in", "out"):
        os.makedirs(tmp_path / side / "train")
    Image.fromarray(np.zeros((6, 6), np.uint8)).save(tmp_path / "in" / "train" / "a.png")
    Image.fromarray(np.zeros((6, 6), np.uint8)).save(tmp_path / "in" / "train" / "b.png")
    Image.fromarray(np.zeros((6, 8), np.uint8)).save(tmp_path / "out" / "train" / "a.png")
    with pytest.raises(ConfigError, match="in/train/b.png has no partner .*out/train/b.png"):
        paired_folders(str(tmp_path / "in"), str(tmp_path / "out"))
    os.remove(tmp_path / "in" / "train" / "b.png")
    with pytest.raises(ConfigError, match="a.png is 6x6 but its target .*a.png is 8x6"):
        paired_folders(str(tmp_path / "in"), str(tmp_path / "out"))
    with pytest.raises(ConfigError, match="data.crop_size: 40 is larger than data.load_size"):
        aligned_folder(root, load_size=32, crop_size=40)


def test_edge_map_and_hidden_half_are_deterministic_filters():
    step = np.zeros((1, 8, 8, 1), np.uint8)
    step[:, :, 4:] = 255  # A vertical black-to-white step between columns 3 and 4.
    edges = edge_map(step)[0, ..., 0]
    np.testing.assert_array_equal(edges[:, 3:5], 0)  # Both sides of the step are lines.
    np.testing.assert_array_equal(np.delete(edges, [3, 4], axis=1), 255)
    hidden = hide_lower_half(step)
    np.testing.assert_array_equal(hidden[:, 4:], 128)
    np.testing.assert_array_equal(hidden[:, :4], step[:, :4])
