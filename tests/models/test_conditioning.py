"""Class-conditional generators and discriminators: every variant's shapes, that labels
change what they should (and nothing when conditioning is off), and cBN's per-class rows."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from ml_collections import ConfigDict

from gan_jax import models
from gan_jax.config.registry import ConfigError
from gan_jax.training.update import split_outputs

NUM_CLASSES = 5
FAMILIES = {  # name -> (generator fields, discriminator fields, example shape)
    "mlp": (dict(hidden_dim=16, depth=2), dict(hidden_dim=16, depth=2), (2,)),
    "dcgan": (dict(width=4), dict(width=4), (8, 8, 1)),
    "resnet": (dict(width=4), dict(width=4, multipliers=(1, 2), downsample=1), (8, 8, 1)),
}


def build(family, g_conditioning="cbn", d_conditioning="projection", num_classes=NUM_CLASSES):
    g_fields, d_fields, shape = FAMILIES[family]
    generator = models.build_generator(
        ConfigDict(dict(name=family, conditioning=g_conditioning, **g_fields)), shape,
        num_classes=num_classes)
    discriminator = models.build_discriminator(
        ConfigDict(dict(name=family, conditioning=d_conditioning, **d_fields)),
        num_classes=num_classes)
    return generator, discriminator, shape


def run(module, variables, inputs, labels):
    return jax.jit(functools.partial(module.apply, train=False))(variables, inputs, labels)


def init(module, key, *inputs):
    """Compiled as one program: faster than running the operations one by one."""
    return jax.jit(functools.partial(module.init, train=False))(key, *inputs)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("g_conditioning, d_conditioning",  # Every variant of each player.
                         [("cbn", "projection"), ("concat", "ac"), ("cbn_concat", "concat")])
def test_shapes_and_that_labels_matter(family, g_conditioning, d_conditioning):
    generator, discriminator, shape = build(family, g_conditioning, d_conditioning)
    z = jax.random.normal(jax.random.PRNGKey(0), (6, 3))
    x = jax.random.normal(jax.random.PRNGKey(1), (6, *shape))
    labels = jnp.array([0, 1, 2, 3, 4, 0])
    g_vars = init(generator, jax.random.PRNGKey(2), z, labels)
    d_vars = init(discriminator, jax.random.PRNGKey(3), x, labels)
    # Perturb the per-class tables away from their (near-)uniform initial values.
    g_vars = jax.tree.map(lambda v: v + 0.3 * jax.random.normal(jax.random.PRNGKey(4), v.shape),
                          g_vars)
    samples = run(generator, g_vars, z, labels)
    assert samples.shape == (6, *shape)
    logits, class_logits = split_outputs(run(discriminator, d_vars, x, labels))
    assert logits.shape == (6,)
    other = (labels + 1) % NUM_CLASSES
    assert not np.allclose(run(generator, g_vars, z, other), samples)
    other_logits, other_class = split_outputs(run(discriminator, d_vars, x, other))
    if d_conditioning == "ac":  # AC-GAN's D predicts the label instead of reading it.
        assert class_logits.shape == (6, NUM_CLASSES)
        np.testing.assert_array_equal(other_logits, logits)
        np.testing.assert_array_equal(other_class, class_logits)
    else:
        assert class_logits is None
        assert not np.allclose(other_logits, logits)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_unconditional_models_ignore_labels(family):
    generator, discriminator, shape = build(family, num_classes=0)
    z = jax.random.normal(jax.random.PRNGKey(0), (4, 3))
    x = jax.random.normal(jax.random.PRNGKey(1), (4, *shape))
    g_vars = init(generator, jax.random.PRNGKey(2), z)
    d_vars = init(discriminator, jax.random.PRNGKey(3), x)
    for labels in (jnp.array([0, 1, 2, 3]), jnp.array([4, 4, 4, 4])):
        np.testing.assert_array_equal(run(generator, g_vars, z, labels),
                                      run(generator, g_vars, z, None))
        np.testing.assert_array_equal(run(discriminator, d_vars, x, labels),
                                      run(discriminator, d_vars, x, None))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_cbn_gradient_reaches_only_the_rows_of_the_batch_labels(family):
    generator, _, _ = build(family, "cbn")
    z = jax.random.normal(jax.random.PRNGKey(0), (4, 3))
    labels = jnp.array([1, 3, 3, 1])
    variables = init(generator, jax.random.PRNGKey(2), z, labels)

    def loss(params):
        out, _ = generator.apply({**variables, "params": params}, z, labels, train=True,
                                 mutable=["batch_stats"])
        return jnp.sum(out**2)

    grads = jax.jit(jax.grad(loss))(variables["params"])
    tables = [(path, g) for path, g in jax.tree_util.tree_leaves_with_path(grads)
              if jax.tree_util.keystr(path).endswith(("['gain']", "['bias']")) and g.ndim == 2]
    assert len(tables) >= 2  # Every normalised layer has a gain and a bias table.
    for path, grad in tables:
        assert grad.shape[0] == NUM_CLASSES
        row_norms = np.linalg.norm(np.asarray(grad), axis=1)
        assert np.all(row_norms[[0, 2, 4]] == 0), jax.tree_util.keystr(path)
        assert np.all(row_norms[[1, 3]] > 0), jax.tree_util.keystr(path)


def test_bad_conditioning_names_the_key():
    with pytest.raises(ConfigError, match="model.generator.conditioning: 'film' is not one of"):
        build("dcgan", g_conditioning="film")
    with pytest.raises(ConfigError, match="model.discriminator.conditioning: 'cbn' is not"):
        build("mlp", d_conditioning="cbn")
    with pytest.raises(ConfigError,
                       match="model.generator.num_classes: derived.*set model.condition='class'"):
        models.build_generator(ConfigDict(dict(name="mlp", num_classes=3)), (2,))
