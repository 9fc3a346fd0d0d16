"""InceptionV3 as used for FID: the network of pytorch-fid's `fid_inception_v3`, in Flax.

This is the TF 2015-12-05 Inception graph ported to PyTorch by pytorch-fid, which differs from
torchvision's InceptionV3 in three ways: average pools in the A, C and first E blocks ignore
padding (TF's behaviour), the last E block pools with a max instead of an average, and the
classifier has 1,008 classes. Features are the 2,048-d global average pool.

Submodules carry the PyTorch names (`Mixed_5b.branch1x1.conv`, `.bn`), so a state dict maps
onto the parameters by name: `state_dict_to_variables`. Weights are read from `.npz` files
(`load_npz`); `scripts/convert_inception_weights.py` writes one from pytorch-fid's `.pth`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from flax import traverse_util

from gan_jax.eval import resize

INPUT_SIZE = 299
NUM_CLASSES = 1008


def preprocess(images: jax.Array, mode: str = "legacy_pytorch") -> jax.Array:
    """float [n, H, W, 3] in [0, 255] -> [n, 299, 299, 3] in [-1, 1]. The default is
    pytorch-fid's: bilinear resize with half-pixel centres (`align_corners=False`, no
    antialiasing), then x / 255 * 2 - 1; `mode` is one of gan_jax.eval.resize's (`clean`
    images arrive resized on the host)."""
    images = jnp.asarray(images, jnp.float32)
    if mode == "legacy_pytorch":  # Resize in [0, 1], as pytorch-fid does.
        images = resize.on_device(images / 255.0, (INPUT_SIZE, INPUT_SIZE), mode)
        return 2.0 * images - 1.0
    images = resize.on_device(images, (INPUT_SIZE, INPUT_SIZE), mode)
    return resize.input_scale(images, mode)


class BasicConv2d(nn.Module):
    """Convolution (no bias), BatchNorm (eps 1e-3, running statistics) and ReLU."""

    features: int
    kernel_size: tuple[int, int]
    strides: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        pad = tuple((p, p) for p in self.padding)
        x = nn.Conv(self.features, self.kernel_size, self.strides, pad, use_bias=False,
                    name="conv")(x)
        x = nn.BatchNorm(use_running_average=True, epsilon=1e-3, name="bn")(x)
        return nn.relu(x)


def _avg_pool_same(x: jax.Array) -> jax.Array:
    """3x3 stride-1 average pool over the valid (unpadded) pixels only."""
    return nn.avg_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)), count_include_pad=False)


def _max_pool_same(x: jax.Array) -> jax.Array:
    return nn.max_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)))


def _max_pool_reduce(x: jax.Array) -> jax.Array:
    return nn.max_pool(x, (3, 3), (2, 2), "VALID")


class InceptionA(nn.Module):
    pool_features: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        b1 = BasicConv2d(64, (1, 1), name="branch1x1")(x)
        b5 = BasicConv2d(48, (1, 1), name="branch5x5_1")(x)
        b5 = BasicConv2d(64, (5, 5), padding=(2, 2), name="branch5x5_2")(b5)
        b3 = BasicConv2d(64, (1, 1), name="branch3x3dbl_1")(x)
        b3 = BasicConv2d(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(b3)
        b3 = BasicConv2d(96, (3, 3), padding=(1, 1), name="branch3x3dbl_3")(b3)
        bp = BasicConv2d(self.pool_features, (1, 1), name="branch_pool")(_avg_pool_same(x))
        return jnp.concatenate([b1, b5, b3, bp], axis=-1)


class InceptionB(nn.Module):
    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        b3 = BasicConv2d(384, (3, 3), (2, 2), name="branch3x3")(x)
        bd = BasicConv2d(64, (1, 1), name="branch3x3dbl_1")(x)
        bd = BasicConv2d(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(bd)
        bd = BasicConv2d(96, (3, 3), (2, 2), name="branch3x3dbl_3")(bd)
        return jnp.concatenate([b3, bd, _max_pool_reduce(x)], axis=-1)


class InceptionC(nn.Module):
    channels_7x7: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        c = self.channels_7x7
        b1 = BasicConv2d(192, (1, 1), name="branch1x1")(x)
        b7 = BasicConv2d(c, (1, 1), name="branch7x7_1")(x)
        b7 = BasicConv2d(c, (1, 7), padding=(0, 3), name="branch7x7_2")(b7)
        b7 = BasicConv2d(192, (7, 1), padding=(3, 0), name="branch7x7_3")(b7)
        bd = BasicConv2d(c, (1, 1), name="branch7x7dbl_1")(x)
        bd = BasicConv2d(c, (7, 1), padding=(3, 0), name="branch7x7dbl_2")(bd)
        bd = BasicConv2d(c, (1, 7), padding=(0, 3), name="branch7x7dbl_3")(bd)
        bd = BasicConv2d(c, (7, 1), padding=(3, 0), name="branch7x7dbl_4")(bd)
        bd = BasicConv2d(192, (1, 7), padding=(0, 3), name="branch7x7dbl_5")(bd)
        bp = BasicConv2d(192, (1, 1), name="branch_pool")(_avg_pool_same(x))
        return jnp.concatenate([b1, b7, bd, bp], axis=-1)


class InceptionD(nn.Module):
    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        b3 = BasicConv2d(192, (1, 1), name="branch3x3_1")(x)
        b3 = BasicConv2d(320, (3, 3), (2, 2), name="branch3x3_2")(b3)
        b7 = BasicConv2d(192, (1, 1), name="branch7x7x3_1")(x)
        b7 = BasicConv2d(192, (1, 7), padding=(0, 3), name="branch7x7x3_2")(b7)
        b7 = BasicConv2d(192, (7, 1), padding=(3, 0), name="branch7x7x3_3")(b7)
        b7 = BasicConv2d(192, (3, 3), (2, 2), name="branch7x7x3_4")(b7)
        return jnp.concatenate([b3, b7, _max_pool_reduce(x)], axis=-1)


class InceptionE(nn.Module):
    """`max_pool=False`: pytorch-fid's FIDInceptionE_1; True: FIDInceptionE_2."""

    max_pool: bool

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        b1 = BasicConv2d(320, (1, 1), name="branch1x1")(x)
        b3 = BasicConv2d(384, (1, 1), name="branch3x3_1")(x)
        b3 = jnp.concatenate([
            BasicConv2d(384, (1, 3), padding=(0, 1), name="branch3x3_2a")(b3),
            BasicConv2d(384, (3, 1), padding=(1, 0), name="branch3x3_2b")(b3)], axis=-1)
        bd = BasicConv2d(448, (1, 1), name="branch3x3dbl_1")(x)
        bd = BasicConv2d(384, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(bd)
        bd = jnp.concatenate([
            BasicConv2d(384, (1, 3), padding=(0, 1), name="branch3x3dbl_3a")(bd),
            BasicConv2d(384, (3, 1), padding=(1, 0), name="branch3x3dbl_3b")(bd)], axis=-1)
        pooled = _max_pool_same(x) if self.max_pool else _avg_pool_same(x)
        bp = BasicConv2d(192, (1, 1), name="branch_pool")(pooled)
        return jnp.concatenate([b1, b3, bd, bp], axis=-1)


class FIDInceptionV3(nn.Module):
    """Inputs: [n, H, W, 3] in [-1, 1] (see `preprocess`). Returns (pool features [n, 2048],
    logits [n, 1008])."""

    @nn.compact
    def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
        x = BasicConv2d(32, (3, 3), (2, 2), name="Conv2d_1a_3x3")(x)
        x = BasicConv2d(32, (3, 3), name="Conv2d_2a_3x3")(x)
        x = BasicConv2d(64, (3, 3), padding=(1, 1), name="Conv2d_2b_3x3")(x)
        x = _max_pool_reduce(x)
        x = BasicConv2d(80, (1, 1), name="Conv2d_3b_1x1")(x)
        x = BasicConv2d(192, (3, 3), name="Conv2d_4a_3x3")(x)
        x = _max_pool_reduce(x)
        x = InceptionA(32, name="Mixed_5b")(x)
        x = InceptionA(64, name="Mixed_5c")(x)
        x = InceptionA(64, name="Mixed_5d")(x)
        x = InceptionB(name="Mixed_6a")(x)
        for name, channels in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160),
                               ("Mixed_6e", 192)):
            x = InceptionC(channels, name=name)(x)
        x = InceptionD(name="Mixed_7a")(x)
        x = InceptionE(max_pool=False, name="Mixed_7b")(x)
        x = InceptionE(max_pool=True, name="Mixed_7c")(x)
        features = jnp.mean(x, axis=(1, 2))
        logits = nn.Dense(NUM_CLASSES, name="fc")(features)
        return features, logits


def state_dict_to_variables(state_dict: dict[str, np.ndarray]) -> dict:
    """pytorch-fid's state dict (names -> arrays) -> Flax variables {"params", "batch_stats"}.

    Convolution weights [out, in, kh, kw] become kernels [kh, kw, in, out]; the fc weight is
    transposed. Raises ValueError naming any key that is missing, unused or misshapen.
    """
    template = jax.eval_shape(
        lambda: FIDInceptionV3().init(jax.random.PRNGKey(0),
                                      jnp.zeros((1, INPUT_SIZE, INPUT_SIZE, 3))))
    expected = {path: leaf.shape
                for path, leaf in traverse_util.flatten_dict(dict(template)).items()}
    renames = {("params", "kernel"): "weight", ("params", "scale"): "weight",
               ("params", "bias"): "bias", ("batch_stats", "mean"): "running_mean",
               ("batch_stats", "var"): "running_var"}
    flat, used = {}, set()
    for path, shape in expected.items():
        collection, *modules, leaf = path
        key = ".".join([*modules, renames[(collection, leaf)]])
        if key not in state_dict:
            raise ValueError(f"Inception weights: missing {key!r}")
        value = np.asarray(state_dict[key], np.float32)
        if leaf == "kernel":
            value = value.transpose(2, 3, 1, 0) if value.ndim == 4 else value.T
        if value.shape != shape:
            raise ValueError(f"Inception weights: {key!r} has shape {state_dict[key].shape}, "
                             f"which does not give {shape}")
        flat[path] = value
        used.add(key)
    unused = sorted(k for k in state_dict if k not in used
                    and not k.endswith("num_batches_tracked"))
    if unused:
        raise ValueError(f"Inception weights: unexpected keys {unused[:5]}"
                         + (f" and {len(unused) - 5} more" if len(unused) > 5 else ""))
    return traverse_util.unflatten_dict(flat)


def save_npz(path: str, state_dict: dict[str, np.ndarray]) -> None:
    """Writes a state dict as a plain `.npz` (arrays only, no pickled objects)."""
    state_dict_to_variables(state_dict)  # Refuse to write weights that would not load.
    np.savez(path, **{k: np.asarray(v, np.float32) for k, v in state_dict.items()
                      if not k.endswith("num_batches_tracked")})


def load_npz(path: str) -> dict:
    with np.load(path, allow_pickle=False) as f:
        return state_dict_to_variables({k: f[k] for k in f.files})
