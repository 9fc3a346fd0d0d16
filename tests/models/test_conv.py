"""The convolution layers equal Flax's, forward and backward, within float32 tolerance."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn
from jax import lax

from gan_jax.models.conv import Conv2D, SubPixelConvTranspose


@functools.partial(jax.jit, static_argnums=0)  # One compilation, not one per operation.
def _outputs_and_grads(module, variables, x):
    # A non-uniform cotangent, so every output position's gradient matters.
    def loss(variables, x):
        y = module.apply(variables, x)
        weights = jnp.sin(jnp.arange(y.size, dtype=jnp.float32)).reshape(y.shape)
        return jnp.sum(y * weights)

    return module.apply(variables, x), jax.grad(loss, argnums=(0, 1))(variables, x)


def _assert_close(a, b):
    # float32 sums of up to a few hundred products: compare relative to the array's scale.
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape
        scale = max(1.0, float(np.abs(y).max()))
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-5 * scale)


TRANSPOSE_CASES = [
    # (kernel, stride, padding, input height, input width)
    (4, 2, "SAME", 4, 4),  # DCGAN's layer.
    (4, 2, "SAME", 7, 5),
    (4, 2, ((1, 1), (1, 1)), 5, 5),
    (3, 2, "SAME", 6, 6),
    (3, 2, "VALID", 5, 4),
    (5, 3, "SAME", 4, 3),
    (2, 2, "VALID", 3, 3),
    (3, 1, "SAME", 5, 5),
    (4, 2, ((2, 0), (0, 3)), 4, 4),
]


@pytest.mark.parametrize("kernel,stride,padding,height,width", TRANSPOSE_CASES)
def test_sub_pixel_transpose_equals_flax_conv_transpose(kernel, stride, padding, height, width):
    x = jax.random.normal(jax.random.PRNGKey(0), (2, height, width, 3))
    kwargs = dict(kernel_size=(kernel, kernel), strides=(stride, stride), padding=padding)
    reference = nn.ConvTranspose(5, **kwargs)
    variables = jax.jit(reference.init)(jax.random.PRNGKey(1), x)
    variables = jax.tree.map(lambda v: v + 0.1, variables)  # A non-zero bias too.
    ours = SubPixelConvTranspose(5, **kwargs)
    assert jax.tree.map(jnp.shape, jax.eval_shape(ours.init, jax.random.PRNGKey(1), x)) == (
        jax.tree.map(jnp.shape, variables))
    _assert_close(_outputs_and_grads(ours, variables, x),
                  _outputs_and_grads(reference, variables, x))


@pytest.mark.parametrize("kernel,stride,padding", [
    (4, 2, ((1, 1), (1, 1))), (3, 1, "SAME"), (3, 2, "SAME"), (4, 2, "VALID"), (1, 1, "VALID"),
    (5, 3, "SAME"), (4, 2, ((2, 0), (0, 3)))])
def test_conv2d_equals_flax_conv(kernel, stride, padding):
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 9, 8, 4))
    kwargs = dict(kernel_size=(kernel, kernel), strides=(stride, stride), padding=padding)
    reference = nn.Conv(6, **kwargs)
    variables = jax.tree.map(lambda v: v + 0.1, jax.jit(reference.init)(jax.random.PRNGKey(1),
                                                                           x))
    _assert_close(_outputs_and_grads(Conv2D(6, **kwargs), variables, x),
                  _outputs_and_grads(reference, variables, x))


def test_sub_pixel_transpose_compiles_without_transposed_convolutions():
    """The point of the layer: no lhs-dilated convolution in the forward or backward pass."""
    x = jnp.ones((2, 8, 8, 16))
    layer = SubPixelConvTranspose(8)
    variables = layer.init(jax.random.PRNGKey(0), x)
    grad = jax.jit(jax.grad(lambda v, x: jnp.sum(layer.apply(v, x) ** 2), argnums=(0, 1)))
    hlo = grad.lower(variables, x).as_text()
    assert "lhs_dilation" not in hlo and "window_dilation" not in hlo


def test_off_cpu_the_layers_run_xla_convolutions_and_equal_flax(monkeypatch):
    """GPUs and TPUs keep their own convolution kernels: the same function, no matmul
    gradients, and no custom gradient rule in the program."""
    from gan_jax.models import conv

    monkeypatch.setattr(conv, "matmul_gradients", lambda: False)
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 6, 6, 3))
    for ours, reference in (
            (SubPixelConvTranspose(5, (4, 4), (2, 2), "SAME"),
             nn.ConvTranspose(5, (4, 4), (2, 2), "SAME")),
            (Conv2D(5, (4, 4), (2, 2), ((1, 1), (1, 1))),
             nn.Conv(5, (4, 4), (2, 2), ((1, 1), (1, 1))))):
        variables = jax.tree.map(lambda v: v + 0.1, reference.init(jax.random.PRNGKey(1), x))
        _assert_close(_outputs_and_grads.__wrapped__(ours, variables, x),
                      _outputs_and_grads.__wrapped__(reference, variables, x))
        assert "custom_vjp" not in str(jax.make_jaxpr(ours.apply)(variables, x))


@pytest.mark.parametrize("groups", [1, 2, 4])
def test_grouped_convolution_matches_xla_and_its_gradients(groups):
    from gan_jax.models.conv import grouped_conv2d

    x = jax.random.normal(jax.random.PRNGKey(0), (2, 7, 6, 8))
    kernel = jax.random.normal(jax.random.PRNGKey(1), (3, 3, 8 // groups, 12))
    padding = ((1, 1), (1, 1))

    def reference(x, kernel):
        return lax.conv_general_dilated(x, kernel, (1, 1), padding, precision="highest",
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                        feature_group_count=groups)

    def ours(x, kernel):
        return grouped_conv2d(x, kernel, groups, padding, precision="highest")

    np.testing.assert_allclose(ours(x, kernel), reference(x, kernel), rtol=1e-5, atol=1e-5)
    loss = lambda f: lambda x, k: jnp.sum(jnp.sin(f(x, k)))  # noqa: E731
    for a, b in zip(jax.grad(loss(ours), (0, 1))(x, kernel),
                    jax.grad(loss(reference), (0, 1))(x, kernel), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="do not split into 3 groups"):
        grouped_conv2d(x, jnp.zeros((3, 3, 2, 12)), 3, padding)
