"""BigGAN's players: the CIFAR script's layout, the hierarchical latent and shared embedding,
orthogonal initialisation, conditioning, checks, and a class-conditional run that resumes
bit for bit."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ml_collections import ConfigDict

from gan_jax import models
from gan_jax.config.registry import ConfigError
from gan_jax.runs.loop import train_and_evaluate
from gan_jax.training.objective import orthogonality, weight_matrices
from tests.helpers import (
    assert_states_identical,
    load_state,
    tiny_image_config,
    write_digit_folder,
)


def shapes(module, *inputs):
    variables = jax.eval_shape(functools.partial(module.init, train=False),
                               jax.random.PRNGKey(0), *inputs)
    return jax.tree.map(lambda v: v.shape, variables)


def generator(num_classes=10, shape=(32, 32, 3), **fields):
    return models.build_generator(ConfigDict(dict(name="biggan", **fields)), shape,
                                  num_classes=num_classes)


def test_cifar_script_layout():
    g = generator(width=64, hierarchical=False, shared_dim=0, weight_init="normal")
    variables = shapes(g, jnp.zeros((1, 128)), jnp.zeros((1,), jnp.int32))
    params = variables["params"]
    assert params["project"]["kernel"] == (128, 4 * 4 * 256)
    # Per-layer class gains and biases (conditional BatchNorm tables), as with G_shared off.
    assert params["block1_norm1"]["gain"] == (10, 256)
    assert params["block3_conv2"]["kernel"] == (3, 3, 256, 256)
    assert "shared_embed" not in params
    # Spectral norm on every dense and convolutional layer: three blocks of three convs, the
    # input projection and the output conv.
    assert len(variables["spectral"]) == 3 * 3 + 2
    d = models.build_discriminator(ConfigDict(dict(name="biggan")), num_classes=10)
    d_params = shapes(d, jnp.zeros((1, 32, 32, 3)), jnp.zeros((1,), jnp.int32))["params"]
    assert d_params["block1_conv1"]["kernel"] == (3, 3, 3, 256)
    assert "block3_shortcut" not in d_params and "block4_shortcut" not in d_params
    assert d_params["projection"]["embed"]["embedding"] == (10, 256)


def test_hierarchical_latent_and_shared_embedding():
    g = generator(width=4, shared_dim=16)
    variables = shapes(g, jnp.zeros((1, 120)), jnp.zeros((1,), jnp.int32))
    params = variables["params"]
    assert "shared_embed_sn" not in variables["spectral"]
    assert "project_sn" in variables["spectral"]
    # z of 120 in four chunks of 30: the first to the input, one per up-block, each beside
    # the 16-wide shared embedding (which is not spectrally normalised, as in the reference).
    assert params["project"]["kernel"] == (30, 4 * 4 * 16)
    for i in (1, 2, 3):
        for norm in ("norm1", "norm2"):
            gain = params[f"block{i}_{norm}_gain"]["kernel"]
            assert gain == (16 + 30, 16)
    assert params["shared_embed"]["embedding"] == (10, 16)
    unconditional = shapes(generator(num_classes=0, width=4), jnp.zeros((1, 120)))["params"]
    assert (unconditional["block1_norm1_gain"]["kernel"] == (30, 16))
    with pytest.raises(ConfigError, match="model.latent_dim: the hierarchical latent is split "
                       "into 4 equal chunks .* so 126 must be a multiple of 4"):
        g.init(jax.random.PRNGKey(0), jnp.zeros((1, 126)), jnp.zeros((1,), jnp.int32),
               train=False)


def test_orthogonal_initialisation_gives_orthonormal_rows():
    g = generator(width=4, multipliers=(4, 4, 2, 1), spectral_norm="none")
    z, labels = jnp.zeros((2, 120)), jnp.zeros((2,), jnp.int32)
    params = g.init(jax.random.PRNGKey(0), z, labels, train=False)["params"]
    # Convolution kernels have fan-in >= out, so their rows are orthonormal: W W^T = I and
    # BigGAN's regulariser is 0 on them.
    convs = {k: v for k, v in params.items() if "conv" in k or "shortcut" in k}
    for w in weight_matrices(convs):
        np.testing.assert_allclose(w @ w.T, np.eye(w.shape[0]), atol=1e-5)
    assert float(orthogonality(convs)) < 1e-8
    xavier = generator(width=4, multipliers=(4, 4, 2, 1), spectral_norm="none",
                       weight_init="xavier").init(jax.random.PRNGKey(0), z, labels,
                                                  train=False)["params"]
    assert float(orthogonality({k: xavier[k] for k in convs})) > 1e-2


def test_labels_and_each_latent_chunk_change_the_image():
    g = generator(num_classes=4, shape=(16, 16, 1), width=2, shared_dim=4)
    z = jax.random.normal(jax.random.PRNGKey(0), (4, 12))
    labels = jnp.arange(4)
    variables = g.init(jax.random.PRNGKey(1), z, labels, train=False)
    run = jax.jit(functools.partial(g.apply, train=False))
    images = run(variables, jnp.tile(z[:1], (4, 1)), labels)
    assert float(jnp.min(jnp.std(images, axis=0))) > 0  # One z, four classes.
    base = run(variables, z, labels)
    for chunk in range(4):  # Every chunk of z reaches the image.
        moved = z.at[:, 3 * chunk : 3 * chunk + 3].add(1.0)
        assert not np.allclose(run(variables, moved, labels), base), chunk


def test_bad_options_name_the_key():
    with pytest.raises(ConfigError, match="model.generator.weight_init: 'he' is not one of "
                       "xavier, normal, ortho"):
        generator(weight_init="he")
    with pytest.raises(ConfigError, match="model.generator.attention: the model never works "
                       "at 64x64"):
        generator(attention=64)
    with pytest.raises(ConfigError, match="model.discriminator.weight_init"):
        models.build_discriminator(ConfigDict(dict(name="biggan", weight_init="he")))


def test_conditional_biggan_resumes_exactly(tmp_path):
    from configs import biggan_fashion_mnist

    config = tiny_image_config(write_digit_folder(tmp_path / "data", {"train": 40}),
                               num_steps=4)
    config.data.channels = 1
    base = biggan_fashion_mnist.get_config()
    config.model, config.loss, config.optim = base.model, base.loss, base.optim
    config.model.latent_dim = 12
    config.model.generator.update(width=2, shared_dim=4, multipliers=(2, 1))
    config.model.discriminator.update(width=2)
    config.train.update(n_disc=2, ema_decay=0.9, ema_start=2, steps_per_call=1,
                        checkpoint_every=2, log_every=2, sample_every=0)
    straight = str(tmp_path / "straight")
    train_and_evaluate(config, straight)
    half = ConfigDict(config.to_dict())
    half.train.num_steps = 2
    resumed = str(tmp_path / "resumed")
    train_and_evaluate(half, resumed)
    train_and_evaluate(config, resumed)
    assert_states_identical(load_state(straight), load_state(resumed))
