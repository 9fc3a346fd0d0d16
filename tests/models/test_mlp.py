import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ml_collections import ConfigDict

from gan_jax import models
from gan_jax.config.registry import ConfigError
from gan_jax.models.latent import sample_latent


def test_generator_and_discriminator_shapes_from_config():
    g = models.build_generator(ConfigDict(dict(name="mlp", hidden_dim=16, depth=3)), (2,))
    d = models.build_discriminator(ConfigDict(dict(name="mlp", hidden_dim=8, depth=2)))
    z = jnp.ones((5, 4))
    g_vars = g.init(jax.random.PRNGKey(0), z)
    x = g.apply(g_vars, z)
    assert x.shape == (5, 2)
    # depth hidden layers plus the output layer.
    assert len(g_vars["params"]) == 4 and g_vars["params"]["Dense_0"]["kernel"].shape == (4, 16)
    d_vars = d.init(jax.random.PRNGKey(1), x)
    assert d.apply(d_vars, x).shape == (5,)
    assert len(d_vars["params"]) == 3


def test_generator_reshapes_to_any_example_shape():
    g = models.build_generator(ConfigDict(dict(name="mlp", hidden_dim=8)), (3, 2))
    z = jnp.ones((2, 4))
    assert g.apply(g.init(jax.random.PRNGKey(0), z), z).shape == (2, 3, 2)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "elu", "gelu", "silu", "tanh"])
def test_activation_by_name(activation):
    d = models.build_discriminator(ConfigDict(dict(name="mlp", activation=activation)))
    x = jnp.linspace(-1, 1, 6).reshape(3, 2)
    assert np.isfinite(d.apply(d.init(jax.random.PRNGKey(0), x), x)).all()


def test_bad_model_configs_name_the_key():
    with pytest.raises(ConfigError, match=r"model.generator.name: unknown generator 'mpl'"):
        models.build_generator(ConfigDict(dict(name="mpl")), (2,))
    with pytest.raises(ConfigError, match=r"unknown config key model.discriminator.width for "
                                          r"MLPDiscriminator; did you mean "
                                          r"'model.discriminator.hidden_dim'"):
        models.build_discriminator(ConfigDict(dict(name="mlp", width=3)))
    with pytest.raises(ConfigError, match=r"model.generator.hidden_dim: must be a positive size"):
        models.build_generator(ConfigDict(dict(name="mlp", hidden_dim=0)), (2,))
    with pytest.raises(ConfigError, match=r"model.generator.depth: expected int, got float"):
        models.build_generator(ConfigDict(dict(name="mlp", depth=2.5)), (2,))
    with pytest.raises(ConfigError, match=r"model.discriminator.activation: unknown activation"):
        models.build_discriminator(ConfigDict(dict(name="mlp", activation="relu6")))
    with pytest.raises(ConfigError, match=r"output_shape"):
        models.build_generator(ConfigDict(dict(name="mlp", output_shape=(2,))), (2,))


def test_latent_distributions():
    key = jax.random.PRNGKey(0)
    normal = np.asarray(sample_latent(key, 20_000, 3, "normal"))
    uniform = np.asarray(sample_latent(key, 20_000, 3, "uniform"))
    # Standard errors at n=20k: mean 0.007, std ~0.005; 5 sigma tolerances.
    np.testing.assert_allclose(normal.mean(0), 0.0, atol=0.035)
    np.testing.assert_allclose(normal.std(0), 1.0, atol=0.025)
    assert uniform.min() >= -1.0 and uniform.max() <= 1.0
    np.testing.assert_allclose(uniform.std(0), 1 / np.sqrt(3), atol=0.02)
    with pytest.raises(ValueError, match="model.latent_dist"):
        sample_latent(key, 2, 2, "laplace")
