"""Convolution layers whose forward and backward passes avoid XLA's slow paths.

A stride-s transposed convolution writes each output phase (the outputs whose index is r mod s
along every axis) from a fixed subset of the kernel taps applied to the undilated input. So
the whole layer is one stride-1 convolution of the input with a rearranged kernel holding
s*s*features output channels, followed by a crop per phase and an interleave of the phases
(depth-to-space), so no pass needs `lax.conv_transpose`, whose kernel gradient is
pathologically slow on XLA:CPU. On CPU its gradients are matmuls of the input's patches, and
`Conv2D`'s kernel gradient is computed as matmuls too (`matmul_gradients`); other backends
run XLA's own convolution gradients.

`SubPixelConvTranspose` has the parameters of `flax.linen.ConvTranspose` (the same names,
shapes and initialisers) and computes the same function, so checkpoints and weights move
between the two freely.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from jax import lax

Padding = str | Sequence[tuple[int, int]]


@dataclasses.dataclass(frozen=True)
class _PhasePlan:
    """How one spatial axis of a transposed convolution splits into `stride` phases."""

    taps: np.ndarray  # [stride, num_taps]: kernel index per (phase, tap); -1 for a zero tap.
    starts: np.ndarray  # [stride]: input offset of each phase's first tap.
    pad: tuple[int, int]  # Padding of the undilated input for the shared convolution.
    phase_len: int  # Outputs per phase (the last ones may be cropped).
    out_len: int  # Length of the transposed convolution's output.


def _dilated_padding(kernel: int, stride: int, padding: str | tuple[int, int]) -> tuple[int, int]:
    """The padding of the stride-dilated input, exactly as `lax.conv_transpose` chooses it."""
    if padding == "SAME":
        pad_len = kernel + stride - 2
        before = kernel - 1 if stride > kernel - 1 else int(np.ceil(pad_len / 2))
        return before, pad_len - before
    if padding == "VALID":
        return kernel - 1, stride - 1 + max(kernel - stride, 0)
    return tuple(padding)


def _plan_axis(in_len: int, kernel: int, stride: int, pad: tuple[int, int]) -> _PhasePlan:
    # Output o reads dilated-and-padded position o + t for tap t; that position holds input i
    # when o + t - pad_before == i * stride. Writing o = stride * m + r, phase r uses the taps
    # with (r + t - pad_before) % stride == 0, reading input m + (r + t - pad_before) // stride.
    before, after = pad
    out_len = (in_len - 1) * stride + 1 + before + after - kernel + 1
    if out_len <= 0:
        raise ValueError(f"transposed convolution output would be empty (length {out_len})")
    phase_taps, starts = [], []
    for r in range(stride):
        taps = [t for t in range(kernel) if (r + t - before) % stride == 0]
        phase_taps.append(taps)
        starts.append((r + taps[0] - before) // stride if taps else 0)
    num_taps = max(1, max(len(t) for t in phase_taps))
    taps = np.full((stride, num_taps), -1, np.int64)
    for r, phase in enumerate(phase_taps):
        taps[r, : len(phase)] = phase
    starts = np.asarray(starts)
    phase_len = -(-out_len // stride)
    # The shared convolution's window p starts at input p - pad_left; phase r needs windows
    # starts[r] + m for m < phase_len, all inside the padded input.
    pad_left = max(0, -int(starts.min()))
    last_window = int(starts.max()) + phase_len - 1 + pad_left
    pad_right = max(0, last_window + num_taps - (in_len + pad_left))
    return _PhasePlan(taps, starts, (pad_left, pad_right), phase_len, out_len)


def _phase_kernel(kernel: jax.Array, plan_h: _PhasePlan, plan_w: _PhasePlan) -> jax.Array:
    """[kh, kw, in, out] -> [taps_h, taps_w, in, stride_h * stride_w * out]."""
    def gather(k, taps, axis):
        picked = jnp.take(k, np.maximum(taps, 0), axis=axis)  # [..., stride, num_taps, ...]
        shape = [1] * picked.ndim
        shape[axis], shape[axis + 1] = taps.shape
        return jnp.where(np.reshape(taps >= 0, shape), picked, 0)

    k = gather(kernel, plan_h.taps, 0)  # [sh, th, kw, in, out]
    k = gather(k, plan_w.taps, 2)  # [sh, th, sw, tw, in, out]
    sh, th, sw, tw, cin, cout = k.shape
    k = jnp.transpose(k, (1, 3, 4, 0, 2, 5))  # [th, tw, in, sh, sw, out]
    return jnp.reshape(k, (th, tw, cin, sh * sw * cout))


Pads = tuple[tuple[int, int], tuple[int, int]]


def _lax_conv(x: jax.Array, kernel: jax.Array, strides: tuple[int, int], padding: Pads,
              precision: lax.PrecisionLike) -> jax.Array:
    return lax.conv_general_dilated(x, kernel, strides, padding, precision=precision,
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))


def matmul_gradients() -> bool:
    """Whether convolution gradients are computed as matmuls: on XLA:CPU, whose own
    convolution gradients are slow. GPUs and TPUs keep their convolution kernels."""
    return jax.default_backend() == "cpu"


def conv2d(x: jax.Array, kernel: jax.Array, strides: tuple[int, int], padding: Pads,
           precision: lax.PrecisionLike = None) -> jax.Array:
    """`lax.conv_general_dilated` (NHWC, HWIO); on CPU with its kernel gradient as matmuls
    (`matmul_gradients`, `conv2d_matmul_kernel_grad`)."""
    if matmul_gradients():
        return conv2d_matmul_kernel_grad(x, kernel, strides, padding, precision)
    return _lax_conv(x, kernel, strides, padding, precision)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def conv2d_matmul_kernel_grad(x: jax.Array, kernel: jax.Array, strides: tuple[int, int],
                              padding: Pads, precision: lax.PrecisionLike = None) -> jax.Array:
    """`lax.conv_general_dilated` (NHWC, HWIO) whose kernel gradient is a sum of matmuls.

    XLA:CPU computes the kernel gradient of a convolution with few taps and many channels
    through a slow generic path (seconds per layer at DCGAN sizes). Here that gradient is one
    matmul per block tap of the space-to-depth input (`_kernel_grad`), contracting the batch
    and spatial axes; the forward pass and the input gradient stay ordinary convolutions.
    """
    return _lax_conv(x, kernel, strides, padding, precision)


def _conv2d_fwd(x, kernel, strides, padding, precision):
    return _lax_conv(x, kernel, strides, padding, precision), (x, kernel)


def _conv2d_bwd(strides, padding, precision, residuals, dy):
    x, kernel = residuals
    _, input_vjp = jax.vjp(lambda x: _lax_conv(x, kernel, strides, padding, precision), x)
    (dx,) = input_vjp(dy)
    return dx, _kernel_grad(x, dy, kernel.shape, strides, padding, precision).astype(kernel.dtype)


def _kernel_grad(x: jax.Array, dy: jax.Array, kernel_shape: tuple[int, ...],
                 strides: tuple[int, int], padding: Pads,
                 precision: lax.PrecisionLike) -> jax.Array:
    """A convolution's kernel gradient as one matmul per tap of the space-to-depth input.

    Tap (s*t + r) of a stride-s convolution reads phase r of the input's s x s blocks at block
    offset t, so after a space-to-depth of the padded input each of the ceil(k/s)^2 block taps
    is a contiguous window of s*s*in channels: fewer, larger matmuls than one per tap, and no
    strided copies.
    """
    kh, kw, cin, cout = kernel_shape
    (sh, sw), (oh, ow) = strides, dy.shape[1:3]
    th, tw = -(-kh // sh), -(-kw // sw)  # Block taps along each axis.
    rows, cols = th + oh - 1, tw + ow - 1  # Blocks read along each axis.
    # Pad (or crop) the input to exactly the blocks read; zero rows add nothing.
    (top, _), (left, _) = padding
    xp = lax.pad(x, jnp.zeros((), x.dtype),
                 ((0, 0, 0), (top, sh * rows - x.shape[1] - top, 0),
                  (left, sw * cols - x.shape[2] - left, 0), (0, 0, 0)))
    blocks = jnp.reshape(xp, (x.shape[0], rows, sh, cols, sw, cin))
    blocks = jnp.reshape(jnp.transpose(blocks, (0, 1, 3, 2, 4, 5)),
                         (x.shape[0], rows, cols, sh * sw * cin))
    grads = jnp.stack([
        jnp.stack([jnp.einsum("bhwi,bhwo->io", blocks[:, i : i + oh, j : j + ow, :], dy,
                              precision=precision) for j in range(tw)])
        for i in range(th)
    ])  # [th, tw, sh * sw * cin, cout]
    grads = jnp.reshape(grads, (th, tw, sh, sw, cin, cout))
    grads = jnp.reshape(jnp.transpose(grads, (0, 2, 1, 3, 4, 5)), (th * sh, tw * sw, cin, cout))
    return grads[:kh, :kw]


conv2d_matmul_kernel_grad.defvjp(_conv2d_fwd, _conv2d_bwd)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _phase_conv(inputs: jax.Array, kernel: jax.Array, padding: Pads,
                precision: lax.PrecisionLike) -> jax.Array:
    """The stride-1 convolution inside `sub_pixel_conv_transpose`: forward by XLA's
    convolution, which is fastest there, and gradients through `_im2col_conv`, whose matmuls
    beat XLA:CPU's convolution gradients for these few-tap, many-channel kernels."""
    return _lax_conv(inputs, kernel, (1, 1), padding, precision)


def _phase_conv_fwd(inputs, kernel, padding, precision):
    return _phase_conv(inputs, kernel, padding, precision), (inputs, kernel)


def _phase_conv_bwd(padding, precision, residuals, dy):
    _, vjp = jax.vjp(lambda x, k: _im2col_conv(x, k, padding, precision), *residuals)
    return vjp(dy)


_phase_conv.defvjp(_phase_conv_fwd, _phase_conv_bwd)


def _im2col_conv(inputs: jax.Array, kernel: jax.Array, padding: Pads,
                 precision: lax.PrecisionLike) -> jax.Array:
    """A stride-1 VALID convolution of the padded input as shifted slices and one matmul, so
    that its forward pass and both gradients are matmuls."""
    kh, kw, cin, cout = kernel.shape
    x = jnp.pad(inputs, ((0, 0), *padding, (0, 0)))
    out_h, out_w = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    patches = [x[:, i : i + out_h, j : j + out_w, :] for i in range(kh) for j in range(kw)]
    patches = jnp.concatenate(patches, axis=-1) if len(patches) > 1 else patches[0]
    return jnp.dot(patches, jnp.reshape(kernel, (kh * kw * cin, cout)), precision=precision)


def sub_pixel_conv_transpose(
    inputs: jax.Array,
    kernel: jax.Array,
    strides: tuple[int, int],
    padding: Padding,
    precision: lax.PrecisionLike = None,
) -> jax.Array:
    """`lax.conv_transpose(inputs, kernel, strides, padding)` for NHWC inputs and HWIO kernels,
    computed as one stride-1 convolution plus a depth-to-space interleave."""
    if isinstance(padding, str):
        padding = padding.upper()
        if padding not in ("SAME", "VALID"):
            raise ValueError(f"padding must be 'SAME', 'VALID' or pairs of ints, got {padding!r}")
        padding = (padding, padding)
    plans = [
        _plan_axis(inputs.shape[1 + a], kernel.shape[a], strides[a],
                   _dilated_padding(kernel.shape[a], strides[a], padding[a]))
        for a in range(2)
    ]
    plan_h, plan_w = plans
    sub_kernel = _phase_kernel(kernel, plan_h, plan_w)
    pads = (plan_h.pad, plan_w.pad)
    y = (_phase_conv(inputs, sub_kernel, pads, precision) if matmul_gradients()
         else _lax_conv(inputs, sub_kernel, (1, 1), pads, precision))
    batch, cout = inputs.shape[0], kernel.shape[-1]
    sh, sw = strides
    y = jnp.reshape(y, (*y.shape[:3], sh, sw, cout))
    lh, lw = plan_h.phase_len, plan_w.phase_len
    rows = []
    for rh in range(sh):
        h0 = int(plan_h.starts[rh]) + plan_h.pad[0]
        cols = []
        for rw in range(sw):
            w0 = int(plan_w.starts[rw]) + plan_w.pad[0]
            cols.append(y[:, h0 : h0 + lh, w0 : w0 + lw, rh, rw, :])
        rows.append(jnp.stack(cols, axis=3))  # [b, lh, lw, sw, c]
    y = jnp.stack(rows, axis=2)  # [b, lh, sh, lw, sw, c]
    y = jnp.reshape(y, (batch, lh * sh, lw * sw, cout))
    return y[:, : plan_h.out_len, : plan_w.out_len, :]


class _Conv2DLayer(nn.Module):
    """The parameters of a 2D Flax convolution layer; subclasses say how to apply them."""

    features: int
    kernel_size: tuple[int, int] = (3, 3)
    strides: tuple[int, int] = (1, 1)
    padding: Padding = "SAME"
    use_bias: bool = True
    kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
    bias_init: nn.initializers.Initializer = nn.initializers.zeros_init()
    precision: lax.PrecisionLike = None

    def convolve(self, inputs: jax.Array, kernel: jax.Array) -> jax.Array:
        raise NotImplementedError

    @nn.compact
    def __call__(self, inputs: jax.Array) -> jax.Array:
        if inputs.ndim != 4:
            raise ValueError(f"expected NHWC inputs, got shape {inputs.shape}")
        kernel_shape = (*self.kernel_size, inputs.shape[-1], self.features)
        kernel = self.param("kernel", self.kernel_init, kernel_shape, jnp.float32)
        y = self.convolve(inputs, kernel.astype(inputs.dtype))
        if self.use_bias:
            bias = self.param("bias", self.bias_init, (self.features,), jnp.float32)
            y = y + bias.astype(y.dtype)
        return y


class SubPixelConvTranspose(_Conv2DLayer):
    """Drop-in for 2D `nn.ConvTranspose` (transpose_kernel=False, no kernel dilation)."""

    kernel_size: tuple[int, int] = (4, 4)
    strides: tuple[int, int] = (2, 2)

    def convolve(self, inputs: jax.Array, kernel: jax.Array) -> jax.Array:
        return sub_pixel_conv_transpose(inputs, kernel, tuple(self.strides), self.padding,
                                        self.precision)


class Conv2D(_Conv2DLayer):
    """Drop-in for 2D `nn.Conv` (no dilation, no groups) built on `conv2d`."""

    def convolve(self, inputs: jax.Array, kernel: jax.Array) -> jax.Array:
        padding = self.padding
        if isinstance(padding, str):
            padding = lax.padtype_to_pads(inputs.shape[1:3], self.kernel_size, self.strides,
                                          padding.upper())
        padding = tuple((int(lo), int(hi)) for lo, hi in padding)
        return conv2d(inputs, kernel, tuple(self.strides), padding, self.precision)


class MatmulConv2D(_Conv2DLayer):
    """A stride-1 2D convolution as shifted slices and one matmul (`nn.Conv` with strides 1,
    no dilation). On CPU its forward and gradients are faster than XLA's convolution for
    small images with few channels."""

    def convolve(self, inputs: jax.Array, kernel: jax.Array) -> jax.Array:
        if tuple(self.strides) != (1, 1):
            raise ValueError(f"MatmulConv2D has stride 1 only, got {self.strides}")
        padding = self.padding
        if isinstance(padding, str):
            padding = lax.padtype_to_pads(inputs.shape[1:3], self.kernel_size, (1, 1),
                                          padding.upper())
        padding = tuple((int(lo), int(hi)) for lo, hi in padding)
        return _im2col_conv(inputs, kernel, padding, self.precision)


def block_diagonal_kernel(kernel: jax.Array, groups: int) -> jax.Array:
    """A grouped kernel [kh, kw, in / groups, out] as the dense [kh, kw, in, out] kernel that
    is zero between different groups."""
    kh, kw, group_in, cout = kernel.shape
    split = jnp.reshape(kernel, (kh, kw, group_in, groups, cout // groups))
    dense = jnp.einsum("hwigo,Gg->hwGigo", split, jnp.eye(groups, dtype=kernel.dtype))
    return jnp.reshape(dense, (kh, kw, groups * group_in, cout))


def grouped_conv2d(x: jax.Array, kernel: jax.Array, groups: int, padding: Pads,
                   precision: lax.PrecisionLike = None) -> jax.Array:
    """A stride-1 convolution whose `groups` channel groups are convolved separately: NHWC
    `x`, kernel [kh, kw, in / groups, out], output channel o in group o // (out / groups), as
    `feature_group_count` in XLA and `groups` in PyTorch.

    On CPU, where XLA's grouped convolution gradients are several times slower than its dense
    ones, it is `conv2d` with the block-diagonal dense kernel: `groups` times the arithmetic,
    still faster at the group counts CPU-sized models use; elsewhere XLA's grouped
    convolution."""
    if groups == 1:
        return conv2d(x, kernel, (1, 1), padding, precision)
    kh, kw, group_in, cout = kernel.shape
    if x.shape[-1] != group_in * groups or cout % groups:
        raise ValueError(f"grouped convolution: {x.shape[-1]} input and {cout} output channels "
                         f"do not split into {groups} groups of a [{kh}, {kw}, {group_in}, "
                         f"{cout}] kernel")
    if matmul_gradients():
        return conv2d(x, block_diagonal_kernel(kernel, groups), (1, 1), padding, precision)
    return lax.conv_general_dilated(x, kernel, (1, 1), padding, precision=precision,
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                    feature_group_count=groups)
