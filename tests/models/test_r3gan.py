"""R3GAN's players: the reference's resamplers, layouts and parameter counts (square and not),
the initialisation's variance control, class conditioning, checks, and a short training run."""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax
from ml_collections import ConfigDict

from gan_jax import models
from gan_jax.config.registry import ConfigError
from gan_jax.models import r3gan
from tests.helpers import tiny_image_config, train_steps, write_image_folder

DIMS = ("NHWC", "HWIO", "NHWC")


def per_channel(kernel: np.ndarray, channels: int) -> jax.Array:
    """A 2D kernel applied to each channel alone, as an HWIO kernel."""
    return jnp.asarray(kernel)[:, :, None, None] * jnp.eye(channels)[None, None]


@pytest.mark.parametrize("height,width", [(7, 5), (4, 4), (8, 3)])
def test_resamplers_are_the_references_strided_convolutions(height, width):
    # PyTorch's conv_transpose2d(x, 4 K, stride=2, padding=1) is a convolution of the
    # 2x-dilated input padded by K - 1 - 1 = 2 with the flipped kernel; its conv2d(stride=2,
    # padding=1) a strided one: XLA computes both here, independently of the slicing code.
    kernel = np.outer(*(2 * [np.array([1.0, 3.0, 3.0, 1.0]) / 8]))
    x = jax.random.normal(jax.random.PRNGKey(0), (2, height, width, 3))
    up = lax.conv_general_dilated(x, per_channel(4 * kernel[::-1, ::-1], 3), (1, 1),
                                  ((2, 2), (2, 2)), lhs_dilation=(2, 2), dimension_numbers=DIMS,
                                  precision="highest")
    np.testing.assert_allclose(r3gan.upsample(x), up, atol=1e-6)
    assert r3gan.upsample(x).shape == (2, 2 * height, 2 * width, 3)
    y = jax.random.normal(jax.random.PRNGKey(1), (2, 2 * height, 2 * width, 3))
    down = lax.conv_general_dilated(y, per_channel(kernel, 3), (2, 2), ((1, 1), (1, 1)),
                                    dimension_numbers=DIMS, precision="highest")
    np.testing.assert_allclose(r3gan.downsample(y), down, atol=1e-6)
    # Constants stay constant away from the zero-padded border; the gain is 1 both ways.
    ones = jnp.ones((1, 8, 8, 1))
    np.testing.assert_allclose(r3gan.upsample(ones)[0, 2:-2, 2:-2], 1.0, atol=1e-6)
    np.testing.assert_allclose(r3gan.downsample(ones)[0, 1:-1, 1:-1], 1.0, atol=1e-6)


def test_lowpass_is_the_filter_convolved_with_a_box():
    np.testing.assert_allclose(r3gan.lowpass((1, 2, 1)), [1 / 8, 3 / 8, 3 / 8, 1 / 8])
    np.testing.assert_allclose(r3gan.lowpass((1,)), [0.5, 0.5])  # Nearest neighbour.


def variables(module, *inputs):
    return jax.eval_shape(functools.partial(module.init, train=False), jax.random.PRNGKey(0),
                          *inputs)


def count(tree) -> int:
    return sum(math.prod(v.shape) for v in jax.tree.leaves(tree))


def block_params(width: int, expansion: int, groups: int, kernel: int = 3) -> int:
    expanded = width * expansion
    return (width * expanded + kernel * kernel * expanded // groups * expanded
            + expanded * width + 2 * expanded)


def test_cifar10_preset_layout_and_parameter_count():
    stage = dict(name="r3gan", width=768, blocks=2, cardinality=96)
    generator = models.build_generator(ConfigDict(dict(stage, class_embed_dim=64)),
                                       (32, 32, 3), num_classes=10)
    discriminator = models.build_discriminator(ConfigDict(dict(stage)), num_classes=10)
    labels = jnp.zeros((1,), jnp.int32)
    g = variables(generator, jnp.zeros((1, 64)), labels)["params"]
    d = variables(discriminator, jnp.zeros((1, 32, 32, 3)), labels)["params"]
    assert g["stage1_block1"]["grouped"]["kernel"].shape == (3, 3, 16, 1536)
    assert g["basis"].shape == (4, 4, 768) and g["project"].shape == (128, 768)
    assert [k for k in g if k.endswith("_block2")] == [f"stage{i}_block2" for i in (1, 2, 3, 4)]
    blocks = 8 * block_params(768, 2, 96)
    # G: class embedding, z+embedding -> width, basis, blocks, to_image (no widening: widths
    # are equal). D: from_image, blocks, basis, logit (to the 768-wide embedding), embedding.
    assert count(g) == 10 * 64 + 128 * 768 + 16 * 768 + blocks + 768 * 3
    assert count(d) == 3 * 768 + blocks + 16 * 768 + 768 * 768 + 10 * 768
    assert 20e6 < count(g) < 22e6  # The preset's G is about 21M parameters.


@pytest.mark.parametrize("shape,bases,stages", [((28, 28, 1), (7, 7), 3),
                                                ((32, 32, 3), (4, 4), 4),
                                                ((32, 64, 3), (4, 8), 4),
                                                ((48, 24, 1), (6, 3), 4)])
def test_shapes_at_square_and_non_square_sizes(shape, bases, stages):
    widths = tuple(4 * 2**i for i in range(stages))[::-1]  # Narrower at higher resolution.
    generator = models.build_generator(ConfigDict(dict(name="r3gan", widths=widths, blocks=1)),
                                       shape)
    discriminator = models.build_discriminator(ConfigDict(dict(
        name="r3gan", widths=widths[::-1], blocks=1)))
    z = jax.random.normal(jax.random.PRNGKey(0), (3, 8))
    g_vars = generator.init(jax.random.PRNGKey(1), z, train=False)
    assert g_vars["params"]["basis"].shape == (*bases, widths[0])
    images = generator.apply(g_vars, z, train=False)
    assert images.shape == (3, *shape) and images.dtype == jnp.float32
    d_vars = discriminator.init(jax.random.PRNGKey(2), images, train=False)
    assert d_vars["params"]["basis"].shape == (*bases, widths[0])
    assert f"stage{stages}_block1" in d_vars["params"]
    assert discriminator.apply(d_vars, images, train=False).shape == (3,)


def test_every_block_starts_as_the_identity():
    block = r3gan.ResidualBlock(cardinality=2, total_blocks=4)
    x = jax.random.normal(jax.random.PRNGKey(0), (4, 6, 6, 8))
    params = block.init(jax.random.PRNGKey(1), x)
    np.testing.assert_array_equal(block.apply(params, x), x)


@pytest.mark.parametrize("depth", [1, 4, 16])
def test_variance_scaling_bounds_the_variance_blocks_add(depth):
    # A trained block's last layer is no longer 0. Drawn at unit gain, with the first two
    # layers' L^(-1/4) scaling each of L blocks adds 1/L of its input's variance, so the stack
    # grows it by (1 + 1/L)^L < e at any depth (unscaled, each block would double it).
    x = jax.random.normal(jax.random.PRNGKey(0), (16, 8, 8, 32))
    y, key = x, jax.random.PRNGKey(1)
    for _ in range(depth):
        key, init_key, last_key = jax.random.split(key, 3)
        block = r3gan.ResidualBlock(cardinality=4, total_blocks=depth)
        params = block.init(init_key, y)
        last = params["params"]["project"]["kernel"]
        fan_in = last.shape[2]
        params["params"]["project"]["kernel"] = (
            jax.random.normal(last_key, last.shape) / math.sqrt(fan_in))
        y = block.apply(params, y)
    ratio = float(jnp.var(y) / jnp.var(x))
    assert 1.0 < ratio < math.e * 1.15, ratio  # 15%: sampling noise of 32 channels.


def test_at_initialisation_the_generators_output_variance_matches_its_basis():
    # Blocks start as the identity, so G's image is the 1x1 map of the upsampled basis x z
    # map: its variance does not depend on the depth.
    spreads = []
    for blocks in (1, 4):
        generator = models.build_generator(ConfigDict(dict(name="r3gan", width=32,
                                                           blocks=blocks)), (32, 32, 3))
        z = jax.random.normal(jax.random.PRNGKey(0), (64, 32))
        params = generator.init(jax.random.PRNGKey(1), z, train=False)
        spreads.append(float(jnp.var(generator.apply(params, z, train=False))))
    assert 0.5 < spreads[1] / spreads[0] < 2.0
    assert 0.1 < spreads[0] < 2.0  # Unit-variance basis and z; interpolation smooths a little.


def test_conditional_players_use_the_labels():
    generator = models.build_generator(ConfigDict(dict(name="r3gan", width=8, blocks=1)),
                                       (8, 8, 1), num_classes=4)
    discriminator = models.build_discriminator(
        ConfigDict(dict(name="r3gan", width=8, blocks=1, class_embed_dim=6)), num_classes=4)
    z = jax.random.normal(jax.random.PRNGKey(0), (4, 5))
    same = jnp.zeros((4,), jnp.int32)
    labels = jnp.arange(4)
    g_vars = generator.init(jax.random.PRNGKey(1), z, labels, train=False)
    assert g_vars["params"]["class_embed"]["embedding"].shape == (4, 5)  # Default: z's size.
    assert g_vars["params"]["project"].shape == (10, 8)
    # Blocks start as the identity, so perturb them to let the labels reach every pixel.
    g_vars = jax.tree.map(lambda v: v + 0.1 * jax.random.normal(jax.random.PRNGKey(2), v.shape),
                          g_vars)
    images = generator.apply(g_vars, jnp.tile(z[:1], (4, 1)), labels, train=False)
    assert float(jnp.min(jnp.std(images, axis=0))) > 0  # Same z, different labels.
    x = jax.random.normal(jax.random.PRNGKey(3), (4, 8, 8, 1))
    d_vars = discriminator.init(jax.random.PRNGKey(4), x, labels, train=False)
    params = d_vars["params"]
    assert params["logit"].shape == (8, 6) and params["class_embed"]["embedding"].shape == (4, 6)
    logits = discriminator.apply(d_vars, x, labels, train=False)
    assert logits.shape == (4,)
    # The projection: the logit is <embedding of y, D's output vector>.
    other = discriminator.apply(d_vars, x, same, train=False)
    assert np.allclose(logits[0], other[0]) and not np.allclose(logits[1:], other[1:])
    with pytest.raises(ValueError, match="needs labels"):
        generator.apply(g_vars, z, train=False)


def test_bad_layouts_name_the_key():
    with pytest.raises(ConfigError, match=r"model.generator.cardinality: the grouped "
                       r"convolution's 48 channels \(width 24 x expansion 2\) do not split "
                       "into 5 groups"):
        models.build_generator(ConfigDict(dict(name="r3gan", width=24, cardinality=5)),
                               (32, 32, 3))
    with pytest.raises(ConfigError, match="model.discriminator.cardinality"):
        models.build_discriminator(ConfigDict(dict(name="r3gan", width=24, cardinality=5)))
    with pytest.raises(ConfigError, match="a 36x21 image cannot be built by R3GAN"):
        models.build_generator(ConfigDict(dict(name="r3gan")), (36, 21, 3))
    with pytest.raises(ConfigError, match="model.generator.widths: 28x28 images take 3 stages, "
                       "so 3 widths, got 4"):
        models.build_generator(ConfigDict(dict(name="r3gan", widths=(8, 8, 8, 8))), (28, 28, 1))
    with pytest.raises(ConfigError, match="resample_filter: an odd number of taps"):
        models.build_generator(ConfigDict(dict(name="r3gan", resample_filter=(1, 1))),
                               (32, 32, 3))
    discriminator = models.build_discriminator(ConfigDict(dict(name="r3gan", width=8)))
    with pytest.raises(ConfigError, match="model.discriminator: a 9x9 image cannot be built"):
        discriminator.init(jax.random.PRNGKey(0), jnp.zeros((1, 9, 9, 1)), train=False)


def test_a_short_run_with_the_relativistic_objective_trains_both_players(tmp_path):
    from configs import r3gan_fashion_mnist

    config = tiny_image_config(write_image_folder(tmp_path), num_steps=2)
    base = r3gan_fashion_mnist.get_config()
    config.model, config.loss, config.optim = base.model, base.loss, base.optim
    config.schedules, config.train.ema_half_life = base.schedules, base.train.ema_half_life
    config.model.latent_dim = 8
    config.model.generator.widths = (8, 4)
    config.model.discriminator.widths = (4, 8)
    config.loss.r1_interval = 1
    config.train.num_steps = 2
    before = train_steps(config, 0)
    after = train_steps(config, 2)
    for params in ("g_params", "d_params"):
        moved = [not np.allclose(a, b) for a, b in zip(
            jax.tree.leaves(getattr(before, params)), jax.tree.leaves(getattr(after, params)),
            strict=True)]
        assert all(moved), params  # Zero-initialised last layers included.


def test_a_non_square_folder_trains_and_writes_grids(tmp_path):
    from PIL import Image

    from configs import r3gan_fashion_mnist
    from gan_jax.runs.loop import train_and_evaluate

    folder = tmp_path / "data" / "train" / "all"
    folder.mkdir(parents=True)
    for i in range(16):  # 24 x 48 landscapes, read at 8 x 16 (the same aspect ratio).
        pixels = np.full((24, 48, 3), 20 * (i % 8), np.uint8)
        pixels[:, 24:, 1] = 200
        Image.fromarray(pixels).save(folder / f"{i}.png")
    config = tiny_image_config(str(tmp_path / "data"), num_steps=2)
    config.data.image_size, config.data.image_width = 8, 16
    base = r3gan_fashion_mnist.get_config()
    config.model, config.loss = base.model, base.loss
    config.model.latent_dim = 8
    config.model.generator.widths = (8, 4)
    config.model.discriminator.widths = (4, 8)
    config.train.update(num_steps=2, steps_per_call=1, sample_every=2, checkpoint_every=2)
    workdir = tmp_path / "run"
    train_and_evaluate(config, str(workdir))
    grids = sorted((workdir / "samples").glob("*.png"))
    assert grids
    width, height = Image.open(grids[-1]).size
    # A square grid of 8 x 16 cells with 2 pixels between and around them.
    assert (width - 2) % 18 == 0 and (height - 2) % 10 == 0
    assert (width - 2) // 18 == (height - 2) // 10 > 1
