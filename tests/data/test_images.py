"""Image datasets: folders written here, the shared MNIST files, batching order and errors."""

import os

import jax
import numpy as np
import pytest
from PIL import Image

from gan_jax.config.registry import ConfigError
from gan_jax.data import build_dataset
from gan_jax.data.images import ImageDataset, batch_indices, image_folder, tfds_images

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED_MNIST = os.path.join(REPO, "..", "shared", "datasets", "mnist")


def write_folder(root, sizes=((20, 30), (40, 40), (16, 24)), per_class=2, classes=("a", "b")):
    """root/train/<class>/<i>.png: RGB images of the given (H, W), each a solid colour whose
    red value is its index, with a white centre pixel."""
    index = 0
    for name in classes:
        os.makedirs(root / "train" / name, exist_ok=True)
        for _ in range(per_class):
            h, w = sizes[index % len(sizes)]
            pixels = np.zeros((h, w, 3), np.uint8)
            pixels[..., 0] = 10 * index
            pixels[h // 2, w // 2] = 255
            Image.fromarray(pixels).save(root / "train" / name / f"{index}.png")
            index += 1
    return index


def test_folder_dataset_reads_resizes_and_crops(tmp_path):
    count = write_folder(tmp_path)
    dataset = image_folder(str(tmp_path), image_size=8, channels=3, crop="center")
    assert dataset.example_shape == (8, 8, 3)
    arrays = dataset.load()
    images, labels = arrays["images"], arrays["labels"]
    assert images.shape == (count, 8, 8, 3) and images.dtype == np.uint8
    assert sorted(labels.tolist()) == [0, 0, 1, 1]
    assert dataset.num_classes == 2 and dataset.class_names == ("a", "b")
    # A solid colour stays that colour after crop and resize (away from the bright centre).
    assert sorted(images[:, 0, 0, 0].tolist()) == [10 * i for i in range(count)]


def halves_image(path, height, width):
    """A grey image, black on its left half and white on its right half."""
    pixels = np.zeros((height, width), np.uint8)
    pixels[:, width // 2:] = 255
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(pixels).save(path)


@pytest.mark.parametrize("crop,size,expected", [
    # A 20x40 (H x W) image, black left and white right, read at other aspect ratios.
    ("center", (8, 16), [0] * 8 + [255] * 8),  # Same ratio: nothing cropped.
    ("center", (16, 8), [0] * 4 + [255] * 4),  # The middle 10 columns: half black.
    ("none", (16, 8), [0] * 4 + [255] * 4),  # Stretched: still half and half.
    ("pad", (8, 16), [0] * 8 + [255] * 8),
])
def test_non_square_sizes_meet_the_aspect_ratio_by_the_crop_mode(tmp_path, crop, size,
                                                                 expected):
    halves_image(str(tmp_path / "train" / "all" / "0.png"), 20, 40)
    dataset = image_folder(str(tmp_path), image_size=size[0], image_width=size[1], channels=1,
                           crop=crop)
    assert dataset.example_shape == (*size, 1)
    images = dataset.load()["images"]
    assert images.shape == (1, *size, 1)
    row = images[0, size[0] // 2, :, 0].astype(int)
    np.testing.assert_allclose(row, expected, atol=40)  # Antialiased edges.


def test_pad_keeps_the_whole_image_between_black_bars(tmp_path):
    # A 20x40 white image read portrait at 16x8: the full width is kept and black bars fill
    # the height (the 40x20 box is padded to 80x40, 30 rows above and below).
    pixels = np.full((20, 40), 255, np.uint8)
    os.makedirs(tmp_path / "train" / "all")
    Image.fromarray(pixels).save(tmp_path / "train" / "all" / "0.png")
    images = image_folder(str(tmp_path), image_size=16, image_width=8, channels=1,
                          crop="pad").load()["images"][0, :, :, 0].astype(int)
    assert images[:5].max() < 40 and images[-5:].max() < 40  # The bars.
    assert images[8].min() > 215  # The image, every column of it.
    center = image_folder(str(tmp_path), image_size=16, image_width=8, channels=1,
                          crop="center").load()["images"][0, :, :, 0]
    assert center.min() > 215  # A crop of a white image: white throughout.


def test_folder_dataset_grayscale(tmp_path):
    write_folder(tmp_path)
    images = image_folder(str(tmp_path), image_size=8, channels=1).load()["images"]
    assert images.shape[-1] == 1
    # ITU-R 601 luma of pure red with value v is 0.299 v (the decoder may truncate).
    luma = np.array(sorted(images[:, 0, 0, 0].tolist()))
    np.testing.assert_allclose(luma, 0.299 * 10 * np.arange(4), atol=1.0)


def test_folder_errors_name_the_culprit(tmp_path):
    with pytest.raises(ConfigError, match="no such folder"):
        image_folder(str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="no folder 'train'"):
        image_folder(str(tmp_path))
    (tmp_path / "train" / "empty").mkdir(parents=True)
    with pytest.raises(ConfigError, match="no images"):
        image_folder(str(tmp_path)).load()
    write_folder(tmp_path)
    (tmp_path / "train" / "a" / "broken.png").write_bytes(b"this is not a png")
    with pytest.raises(ConfigError, match="broken.png"):
        image_folder(str(tmp_path), image_size=8).load()


def test_config_errors_for_images(tmp_path):
    with pytest.raises(ConfigError, match="data.name: unknown dataset 'mnits'; did you mean"):
        build_dataset({"name": "mnits"})
    (tmp_path / "manual").mkdir()
    with pytest.raises(ConfigError, match=r"mnist is not prepared .*GAN_JAX_OFFLINE is set.*"
                                          r"train-images-idx3-ubyte.gz"):
        build_dataset({"name": "mnist", "data_dir": str(tmp_path / "tfds"),
                       "manual_dir": str(tmp_path / "manual")})
    with pytest.raises(ConfigError, match="data.channels"):
        build_dataset({"name": "mnist", "channels": 2})
    with pytest.raises(ConfigError, match="data.crop"):
        build_dataset({"name": "mnist", "crop": "middle"})
    with pytest.raises(ConfigError, match="unknown config key data.image_sise"):
        build_dataset({"name": "mnist", "image_sise": 32})
    with pytest.raises(ConfigError, match="data.image_size: expected int"):
        build_dataset({"name": "mnist", "image_size": "32"})
    with pytest.raises(ConfigError, match="data.image_width: 64 needs a height too"):
        build_dataset({"name": "mnist", "image_width": 64})


def indexed_dataset(num=50):
    """A dataset whose image i holds the value i everywhere, to track the order."""
    images = np.broadcast_to(np.arange(num, dtype=np.uint8)[:, None, None, None],
                             (num, 4, 4, 1)).copy()
    return ImageDataset("indexed", (4, 4, 1), lambda: (images, None))


def _indices(batch):
    return np.round((np.asarray(batch)[:, 0, 0, 0] + 1.0) * 127.5).astype(int)


def test_batches_are_epochs_of_a_seeded_permutation():
    dataset = indexed_dataset()
    data = dataset.device_data(jax.random.PRNGKey(7), batch_size=8)
    sample = jax.jit(lambda *args: dataset.sample(*args)["x"], static_argnums=3)
    key = jax.random.PRNGKey(0)
    batch = sample(data, key, 0, 8)
    assert batch.shape == (8, 4, 4, 1) and batch.dtype == np.float32
    assert float(batch.min()) >= -1.0 and float(batch.max()) <= 1.0
    # 50 images, batch 8: 6 batches an epoch, each image at most once, 2 dropped.
    epoch0 = np.concatenate([_indices(sample(data, key, b, 8)) for b in range(6)])
    epoch1 = np.concatenate([_indices(sample(data, key, b, 8)) for b in range(6, 12)])
    for epoch in (epoch0, epoch1):
        assert len(set(epoch.tolist())) == 48 and set(epoch.tolist()) <= set(range(50))
    assert not np.array_equal(epoch0, epoch1)  # Reshuffled every epoch.
    # A function of (shuffle key, batch index) alone: recomputing gives the same batch.
    np.testing.assert_array_equal(sample(data, jax.random.PRNGKey(5), 9, 8),
                                  sample(data, key, 9, 8))
    other = dataset.device_data(jax.random.PRNGKey(8), batch_size=8)
    assert not np.array_equal(_indices(sample(other, key, 0, 8)), epoch0[:8])


def test_random_flip_mirrors_whole_images():
    num = 16
    images = np.zeros((num, 4, 4, 1), np.uint8)
    images[:, :, 0] = 255  # Bright left column.
    dataset = ImageDataset("edges", (4, 4, 1), lambda: (images, None), random_flip=True)
    data = dataset.device_data(jax.random.PRNGKey(0), batch_size=num)
    batch = np.asarray(dataset.sample(data, jax.random.PRNGKey(1), 0, num)["x"])
    left, right = batch[:, :, 0, 0], batch[:, :, -1, 0]
    flipped = np.all(right == 1.0, axis=1)
    assert np.all(left[~flipped] == 1.0) and np.all(left[flipped] == -1.0)
    assert 0 < flipped.sum() < num


def test_too_few_images_for_a_batch_is_an_error():
    dataset = indexed_dataset(num=5)
    with pytest.raises(ConfigError, match="fewer than train.batch_size=8"):
        dataset.device_data(jax.random.PRNGKey(0), batch_size=8)


def test_a_split_the_dataset_lacks_is_named(mnist_data_dir):
    # Prepared from the shared files once per session (splits are known once prepared).
    tfds_images("mnist", split="test", data_dir=mnist_data_dir, manual_dir=SHARED_MNIST).load()
    with pytest.raises(ConfigError, match="data.split: 'mnist' has no split 'validation'"):
        build_dataset({"name": "mnist", "split": "validation", "data_dir": mnist_data_dir})


def test_real_mnist_from_the_shared_files(mnist_data_dir):
    dataset = tfds_images("mnist", split="test", data_dir=mnist_data_dir,
                          manual_dir=SHARED_MNIST)
    assert dataset.example_shape == (28, 28, 1)
    arrays = dataset.load()
    images, labels = arrays["images"], arrays["labels"]
    assert images.shape == (10_000, 28, 28, 1) and images.dtype == np.uint8
    assert np.bincount(labels).tolist()[:2] == [980, 1135]  # The official test-set counts.
    assert dataset.num_classes == 10 and dataset.class_names[:3] == ("0", "1", "2")
    # Labels pass through to the step's batches, paired with their images.
    data = dataset.device_data(jax.random.PRNGKey(0), batch_size=64)
    batch = dataset.sample(data, jax.random.PRNGKey(1), 3, 64)
    order = np.asarray(batch_indices(data["shuffle_key"], 3, 64, 10_000))
    np.testing.assert_array_equal(batch["label"], labels[order])
    np.testing.assert_allclose(np.asarray(batch["x"]), images[order] / 127.5 - 1.0, atol=1e-6)
    assert 0.12 < images.mean() / 255 < 0.14  # MNIST's mean intensity is about 0.13.
    resized = tfds_images("mnist", split="test", data_dir=mnist_data_dir, image_size=32,
                          channels=3, download=False)
    assert resized.example_shape == (32, 32, 3)
    padded = tfds_images("mnist", split="test[:50]", data_dir=mnist_data_dir, pad=2,
                         download=False)
    assert padded.example_shape == (32, 32, 1)
    padded_images = padded.load()["images"]
    np.testing.assert_array_equal(padded_images[:, 2:-2, 2:-2], images[:50])
    assert padded_images[:, :2].max() == 0 and padded_images[:, :, -2:].max() == 0
    with pytest.raises(ConfigError, match="data.pad: must be >= 0"):
        tfds_images("mnist", split="test", data_dir=mnist_data_dir, pad=-1)


def test_fashion_mnist_prepared_after_mnist_in_the_same_data_dir(mnist_data_dir):
    # TFDS caches files extracted from a manual dir by name only; MNIST and Fashion-MNIST
    # share file names, so a shared download dir used to turn Fashion-MNIST into MNIST.
    shared_fashion = os.path.join(os.path.dirname(SHARED_MNIST), "fashion_mnist")
    if not os.path.isdir(shared_fashion):
        pytest.skip(f"the official Fashion-MNIST files are not at {shared_fashion}")
    tfds_images("mnist", split="test", data_dir=mnist_data_dir,
                manual_dir=SHARED_MNIST).load()
    labels = tfds_images("fashion_mnist", split="test", data_dir=mnist_data_dir,
                         manual_dir=shared_fashion).load()["labels"]
    assert np.bincount(labels).tolist() == [1000] * 10  # Fashion's test set is balanced.


def test_concurrent_runs_prepare_a_dataset_once(tmp_path):
    """Trials of a sweep that start together must not prepare into each other's files."""
    import threading
    import time

    from gan_jax.data.images import _prepare

    class Builder:
        name, data_dir_root, calls = "fake", str(tmp_path), []

        def is_prepared(self):
            return bool(self.calls)

        def download_and_prepare(self, download_dir, download_config):
            time.sleep(0.3)  # Long enough for the other thread to arrive meanwhile.
            self.calls.append(download_dir)

    builder = Builder()
    threads = [threading.Thread(target=_prepare, args=(builder, "")) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert builder.calls == [os.path.join(str(tmp_path), "downloads", "fake")]
