"""Paired image data for image-to-image translation (pix2pix): an input image A and its target B.

Sources:
- `aligned_folder`: pix2pix's aligned format, `path/<split>/<image>` with A and B side by side
  in each image (A on the left); `direction` "BtoA" swaps them.
- `paired_folders`: `input_path/<split>/<name>` and `target_path/<split>/<name>`, matched by
  file name.
- Pairs derived from TFDS digits and garments, so translation trains offline:
  `edges2mnist` / `edges2fashion` pair an edge map (`edge_map`) with its image, and
  `inpaint_fashion` pairs a garment whose lower half is hidden (`hide_lower_half`) with the
  whole garment.

Every source resizes both images of a pair to `load_size` x `load_size` on the host and keeps
them as uint8 in accelerator memory. The train step draws batches there: a random
`crop_size` crop and (with `random_flip`) a horizontal flip, the same for A and B of a pair,
drawn from the step's key, so a resumed run sees exactly the batches of the uninterrupted one.
Held-out pairs (evaluation, sample grids, `gan-translate`) take the centre crop, unflipped.
A batch is {"x": the target B (what D judges), "condition": the input A}.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.config.registry import ConfigError
from gan_jax.data.images import batch_indices, place_split, tfds_images, to_float

DIRECTIONS = ("AtoB", "BtoA")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
# Edge maps: a pixel is an edge where the Sobel gradient magnitude of the image (scaled to
# [0, 1], the gradient divided by the filter's gain 4) exceeds this.
EDGE_THRESHOLD = 0.2
HIDDEN_VALUE = 128  # The grey that hides the lower half of an inpainting input.


@dataclasses.dataclass(frozen=True, eq=False)
class PairedDataset:
    """Pairs of uint8 images at `load_size`; batches are jittered crops in [-1, 1]."""

    description: str
    load_size: int
    crop_size: int
    input_channels: int
    target_channels: int
    read: Callable[[], tuple[np.ndarray, np.ndarray]]  # -> (inputs, targets) at load size
    random_flip: bool = False

    kind = "pairs"
    num_classes = None  # Pairs carry no class labels.

    @property
    def example_shape(self) -> tuple[int, int, int]:
        """The shape of one target (what G makes and D judges)."""
        return (self.crop_size, self.crop_size, self.target_channels)

    @property
    def condition_shape(self) -> tuple[int, int, int]:
        """The shape of one input (what G reads, and D with the target)."""
        return (self.crop_size, self.crop_size, self.input_channels)

    def load(self) -> dict[str, np.ndarray]:
        """Reads the split: {"inputs": uint8 [n, L, L, Ca], "targets": uint8 [n, L, L, Cb]}."""
        inputs, targets = self.read()
        side = (self.load_size, self.load_size)
        for name, array, channels in (("inputs", inputs, self.input_channels),
                                      ("targets", targets, self.target_channels)):
            if array.shape[1:] != (*side, channels):
                raise ConfigError(f"{self.description}: read {name} of shape {array.shape[1:]}, "
                                  f"expected {(*side, channels)}")
        if inputs.shape[0] != targets.shape[0]:
            raise ConfigError(f"{self.description}: {inputs.shape[0]} inputs but "
                              f"{targets.shape[0]} targets")
        if inputs.shape[0] == 0:
            raise ConfigError(f"{self.description}: no pairs")
        return {"inputs": inputs, "targets": targets}

    def device_data(self, shuffle_key: jax.Array, batch_size: int) -> dict[str, jax.Array]:
        """The split on the default device, with the key that shuffles it every epoch."""
        return place_split(self.load(), shuffle_key, batch_size, self.description, "pairs")

    def sample(self, data: dict[str, jax.Array], key: jax.Array, batch_index: jax.Array,
               num: int) -> dict[str, jax.Array]:
        """Pair batch number `batch_index`, jittered by `key`: {"x": targets, "condition":
        inputs}, float32 in [-1, 1]; traceable."""
        indices = batch_indices(data["shuffle_key"], batch_index, num,
                                data["inputs"].shape[0])
        inputs, targets = jitter(key, data["inputs"][indices], data["targets"][indices],
                                 self.crop_size, self.random_flip)
        return {"x": to_float(targets), "condition": to_float(inputs)}

    def held_out(self, arrays: dict[str, np.ndarray], num: int) -> tuple[np.ndarray, np.ndarray]:
        """The first `num` pairs (all of a smaller split), centre-cropped: uint8 (inputs,
        targets)."""
        return (center_crop(arrays["inputs"][:num], self.crop_size),
                center_crop(arrays["targets"][:num], self.crop_size))

    def reference_images(self, arrays: dict[str, np.ndarray], key: jax.Array,
                         num: int) -> np.ndarray:
        """Real targets for image metrics: those of `held_out` (`key` is unused)."""
        del key
        return self.held_out(arrays, num)[1]

    def reference_labels(self, arrays: dict[str, np.ndarray], key: jax.Array,
                         num: int) -> None:
        del arrays, key, num
        return None


def jitter(key: jax.Array, inputs: jax.Array, targets: jax.Array, crop_size: int,
           flip: bool) -> tuple[jax.Array, jax.Array]:
    """A random `crop_size` crop and (if `flip`) a random horizontal flip of each pair, the
    same for its input and its target."""
    n, load, _, channels = inputs.shape
    both = jnp.concatenate([inputs, targets], axis=-1)
    y_key, x_key, flip_key = jax.random.split(key, 3)
    tops = jax.random.randint(y_key, (n,), 0, load - crop_size + 1)
    lefts = jax.random.randint(x_key, (n,), 0, load - crop_size + 1)
    crop = jax.vmap(lambda image, top, left: jax.lax.dynamic_slice(
        image, (top, left, 0), (crop_size, crop_size, image.shape[-1])))
    both = crop(both, tops, lefts)
    if flip:
        flipped = jax.random.bernoulli(flip_key, 0.5, (n, 1, 1, 1))
        both = jnp.where(flipped, both[:, :, ::-1], both)
    return both[..., :channels], both[..., channels:]


def center_crop(images: np.ndarray, size: int) -> np.ndarray:
    """The central `size` x `size` window of [n, H, W, C] images."""
    top, left = (images.shape[1] - size) // 2, (images.shape[2] - size) // 2
    return images[:, top : top + size, left : left + size]


def _check_sizes(load_size: int, crop_size: int) -> None:
    if load_size < 1 or crop_size < 1:
        raise ConfigError(f"data.load_size / data.crop_size: must be >= 1, got {load_size} / "
                          f"{crop_size}")
    if crop_size > load_size:
        raise ConfigError(f"data.crop_size: {crop_size} is larger than data.load_size "
                          f"{load_size}; crops are taken from images resized to the load size")


def _check_channels(key: str, channels: int) -> None:
    if channels not in (1, 3):
        raise ConfigError(f"data.{key}: must be 1 or 3, got {channels}")


def _image_files(directory: str, key: str) -> list[str]:
    """The sorted image file names of `directory`; ConfigError if it is missing or empty."""
    if not os.path.isdir(directory):
        parent = os.path.dirname(directory.rstrip("/"))
        found = (sorted(d for d in os.listdir(parent) if os.path.isdir(os.path.join(parent, d)))
                 if os.path.isdir(parent) else [])
        raise ConfigError(f"{key}: no folder {directory!r}"
                          + (f" (found: {', '.join(found)})" if found else ""))
    files = sorted(f for f in os.listdir(directory)
                   if f.lower().endswith(IMAGE_EXTENSIONS)
                   and os.path.isfile(os.path.join(directory, f)))
    if not files:
        raise ConfigError(f"{key}: {directory} holds no images "
                          f"({', '.join(IMAGE_EXTENSIONS)})")
    return files


def _image_size(path: str) -> tuple[int, int]:
    """(width, height) from the file's header, without decoding it."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.size
    except OSError as error:
        raise ConfigError(f"cannot read image {path}: {error}") from None


def read_image(path: str, channels: int) -> np.ndarray:
    """uint8 [H, W, channels] from an image file (converted to grey or RGB)."""
    from PIL import Image

    with Image.open(path) as image:
        array = np.asarray(image.convert("L" if channels == 1 else "RGB"))
    return array[..., None] if channels == 1 else array


def resize(image: np.ndarray, size: int) -> np.ndarray:
    """uint8 [H, W, C] -> uint8 [size, size, C], bicubic (as pix2pix resizes)."""
    from PIL import Image

    if image.shape[:2] == (size, size):
        return image
    picture = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    out = np.asarray(picture.resize((size, size), Image.Resampling.BICUBIC))
    return out[..., None] if image.shape[-1] == 1 else out


def split_aligned(image: np.ndarray, direction: str) -> tuple[np.ndarray, np.ndarray]:
    """An aligned A|B image -> (input, target) for `direction`."""
    half = image.shape[1] // 2
    a, b = image[:, :half], image[:, half:]
    return (a, b) if direction == "AtoB" else (b, a)


def _process_shard(files: list[str]) -> list[str]:
    """This process's files: every process_count-th one."""
    return files[jax.process_index()::jax.process_count()]


def aligned_folder(
    path: str,
    split: str = "train",
    direction: str = "AtoB",
    load_size: int = 286,
    crop_size: int = 256,
    channels: int = 3,
    random_flip: bool = True,
) -> PairedDataset:
    """pix2pix's aligned format: each image of `path/<split>/` holds A (left) and B (right)
    side by side; `direction` "AtoB" translates A into B, "BtoA" B into A."""
    if direction not in DIRECTIONS:
        raise ConfigError(f"data.direction: {direction!r} is not one of {', '.join(DIRECTIONS)}")
    _check_sizes(load_size, crop_size)
    _check_channels("channels", channels)
    if not path:
        raise ConfigError("data.path: set it to the folder that holds <split>/<A|B image>")
    directory = os.path.join(path, split)
    files = _image_files(directory, "data.split" if os.path.isdir(path) else "data.path")
    for name in files:  # Headers only: a bad file fails now, not after reading the rest.
        width, _ = _image_size(os.path.join(directory, name))
        if width % 2:
            raise ConfigError(f"data.path: aligned image {os.path.join(directory, name)} has "
                              f"odd width {width}; A and B must be side by side, equal in size")

    def read() -> tuple[np.ndarray, np.ndarray]:
        pairs = [split_aligned(read_image(os.path.join(directory, f), channels), direction)
                 for f in _process_shard(files)]
        return (np.stack([resize(a, load_size) for a, _ in pairs]),
                np.stack([resize(b, load_size) for _, b in pairs]))

    return PairedDataset(f"aligned folder {directory} ({direction})", load_size, crop_size,
                         channels, channels, read, random_flip)


def paired_folders(
    input_path: str,
    target_path: str,
    split: str = "train",
    load_size: int = 286,
    crop_size: int = 256,
    input_channels: int = 3,
    target_channels: int = 3,
    random_flip: bool = True,
) -> PairedDataset:
    """Inputs in `input_path/<split>/` and targets in `target_path/<split>/`, paired by file
    name; the two images of a pair must have the same size."""
    _check_sizes(load_size, crop_size)
    _check_channels("input_channels", input_channels)
    _check_channels("target_channels", target_channels)
    for key, value in (("input_path", input_path), ("target_path", target_path)):
        if not value:
            raise ConfigError(f"data.{key}: set it to a folder that holds <split>/<image>")
    input_dir, target_dir = os.path.join(input_path, split), os.path.join(target_path, split)
    inputs = _image_files(input_dir, "data.input_path")
    targets = _image_files(target_dir, "data.target_path")
    for names, partners, here, there in ((inputs, targets, input_dir, target_dir),
                                         (targets, inputs, target_dir, input_dir)):
        missing = sorted(set(names) - set(partners))
        if missing:
            raise ConfigError(f"data: {os.path.join(here, missing[0])} has no partner "
                              f"{os.path.join(there, missing[0])}"
                              + (f" ({len(missing) - 1} more unpaired)" if len(missing) > 1
                                 else ""))
    for name in inputs:
        a, b = os.path.join(input_dir, name), os.path.join(target_dir, name)
        size_a, size_b = _image_size(a), _image_size(b)
        if size_a != size_b:
            raise ConfigError(f"data: {a} is {'x'.join(map(str, size_a))} but its target {b} "
                              f"is {'x'.join(map(str, size_b))}; the images of a pair must have "
                              "the same size")

    def read() -> tuple[np.ndarray, np.ndarray]:
        names = _process_shard(inputs)
        return (np.stack([resize(read_image(os.path.join(input_dir, f), input_channels),
                                 load_size) for f in names]),
                np.stack([resize(read_image(os.path.join(target_dir, f), target_channels),
                                 load_size) for f in names]))

    return PairedDataset(f"paired folders {input_dir} -> {target_dir}", load_size, crop_size,
                         input_channels, target_channels, read, random_flip)


def sobel_magnitude(images: np.ndarray) -> np.ndarray:
    """The Sobel gradient magnitude of uint8 [n, H, W, C] images scaled to [0, 1], divided by
    the filter's gain (4), so a step from black to white reads 1 (edges replicate borders)."""
    from scipy import ndimage

    x = images.astype(np.float64) / 255.0

    def sobel(axis: int) -> np.ndarray:  # Derivative along `axis`, smoothing along the other.
        derivative = ndimage.correlate1d(x, [-1.0, 0.0, 1.0], axis=axis, mode="nearest")
        return ndimage.correlate1d(derivative, [1.0, 2.0, 1.0], axis=3 - axis, mode="nearest")

    return np.hypot(sobel(1), sobel(2)) / 4.0


def edge_map(images: np.ndarray, threshold: float = EDGE_THRESHOLD) -> np.ndarray:
    """uint8 [n, H, W, 1] images -> their edge maps: black lines (0) where
    `sobel_magnitude` exceeds `threshold`, on white (255). Deterministic."""
    return np.where(sobel_magnitude(images) > threshold, 0, 255).astype(np.uint8)


def hide_lower_half(images: np.ndarray) -> np.ndarray:
    """[n, H, W, C] images with their lower half (rows H // 2 onwards) set to grey."""
    hidden = images.copy()
    hidden[:, images.shape[1] // 2 :] = HIDDEN_VALUE
    return hidden


def _derived(source: str, make_input: Callable[[np.ndarray], np.ndarray], what: str,
             split: str, load_size: int, crop_size: int, random_flip: bool, data_dir: str,
             manual_dir: str, download: bool) -> PairedDataset:
    _check_sizes(load_size, crop_size)
    images = tfds_images(source, split, load_size, 1, "none", False, data_dir, manual_dir,
                         download)

    def read() -> tuple[np.ndarray, np.ndarray]:
        targets = images.read()[0]
        return make_input(targets), targets

    return PairedDataset(f"{what} from {images.description}", load_size, crop_size, 1, 1,
                         read, random_flip)


def edges2mnist(split: str = "train", load_size: int = 36, crop_size: int = 32,
                random_flip: bool = False, data_dir: str = "", manual_dir: str = "",
                download: bool = True) -> PairedDataset:
    """MNIST digits (resized to `load_size`) from their edge maps."""
    return _derived("mnist", edge_map, "edges2mnist", split, load_size, crop_size, random_flip,
                    data_dir, manual_dir, download)


def edges2fashion(split: str = "train", load_size: int = 36, crop_size: int = 32,
                  random_flip: bool = True, data_dir: str = "", manual_dir: str = "",
                  download: bool = True) -> PairedDataset:
    """Fashion-MNIST garments (resized to `load_size`) from their edge maps."""
    return _derived("fashion_mnist", edge_map, "edges2fashion", split, load_size, crop_size,
                    random_flip, data_dir, manual_dir, download)


def inpaint_fashion(split: str = "train", load_size: int = 36, crop_size: int = 32,
                    random_flip: bool = True, data_dir: str = "", manual_dir: str = "",
                    download: bool = True) -> PairedDataset:
    """Fashion-MNIST garments from their upper half (the lower half hidden in grey)."""
    return _derived("fashion_mnist", hide_lower_half, "inpaint_fashion", split, load_size,
                    crop_size, random_flip, data_dir, manual_dir, download)
