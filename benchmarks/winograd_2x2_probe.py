"""Probe: does Winograd F(2x2, 2x2) speed up the 2x2-tap convolutions of DCGAN-64 on XLA:CPU?

Compares, per generator layer at batch 64, the sub-pixel layer's stride-1 2x2 convolution as
im2col + matmul (what gan_jax uses) with a Winograd F(2x2, 2x2) version (9 products per 2x2
output tile instead of 16), forward and forward+backward, median of 5 timings in ms.
Measured on 2 EPYC cores: forward+backward is 1.4-1.8x slower with Winograd on the three wide
layers and 0.85x on the narrow output layer, since its transforms are memory-bound.

    python benchmarks/winograd_2x2_probe.py
"""

import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.models.conv import _im2col_conv

PAD = ((1, 1), (1, 1))


def winograd_conv(x, w, padding):
    """VALID 2x2 stride-1 convolution of the padded x via Winograd F(2x2, 2x2)."""
    x = jnp.pad(x, ((0, 0), *padding, (0, 0)))
    out_h, out_w = x.shape[1] - 1, x.shape[2] - 1
    tiles_h, tiles_w = -(-out_h // 2), -(-out_w // 2)
    x = jnp.pad(x, ((0, 0), (0, 2 * tiles_h + 1 - x.shape[1]),
                    (0, 2 * tiles_w + 1 - x.shape[2]), (0, 0)))

    def input_transform(x, axis):  # B^T d = (d0 - d1, d1, d2 - d1) per tile.
        n = (x.shape[axis] - 1) // 2
        d0, d1, d2 = (jax.lax.slice_in_dim(x, s, s + 2 * n - 1, 2, axis) for s in range(3))
        return [d0 - d1, d1, d2 - d1]

    v = jnp.stack([c for row in input_transform(x, 1) for c in input_transform(row, 2)])
    g = [w[0], w[0] + w[1], w[1]]  # G g = (g0, g0 + g1, g1).
    u = jnp.stack([c for row in g for c in (row[0], row[0] + row[1], row[1])])
    m = jnp.einsum("kbhwc,kco->kbhwo", v, u).reshape(3, 3, *v.shape[1:4], w.shape[-1])
    cols = jnp.stack([m[:, 0] + m[:, 1], m[:, 1] + m[:, 2]], axis=4)  # A^T m along W.
    y = jnp.stack([cols[0] + cols[1], cols[1] + cols[2]], axis=2)  # Then along H.
    return y.reshape(x.shape[0], 2 * tiles_h, 2 * tiles_w, -1)[:, :out_h, :out_w]


def im2col(x, w):
    return _im2col_conv(x, w, PAD, None)


def wino(x, w):
    return winograd_conv(x, w, PAD)


def both(f):
    """Forward and backward: the gradients with respect to input and kernel."""
    return lambda x, w: jax.grad(lambda x, w: jnp.sum(f(x, w) ** 2), (0, 1))(x, w)


def median_ms(fn, *args):
    fn = jax.jit(fn)
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(5):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return round(1000 * statistics.median(times))


def main() -> None:
    key = jax.random.PRNGKey(0)
    for size, cin, cout in [(4, 512, 256), (8, 256, 128), (16, 128, 64), (32, 64, 3)]:
        x = jax.random.normal(key, (64, size, size, cin))
        w = 0.02 * jax.random.normal(key, (2, 2, cin, 4 * cout))
        np.testing.assert_allclose(wino(x, w), im2col(x, w), atol=1e-3)
        print(f"{size}x{size}x{cin} -> {4 * cout} channels: im2col fwd "
              f"{median_ms(im2col, x, w)} ms, fwd+bwd {median_ms(both(im2col), x, w)} ms; "
              f"winograd fwd {median_ms(wino, x, w)} ms, fwd+bwd {median_ms(both(wino), x, w)} ms")


if __name__ == "__main__":
    main()
