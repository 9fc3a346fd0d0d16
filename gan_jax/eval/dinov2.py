"""DINOv2 ViT-L/14 (Oquab et al. 2023) in Flax, for the Fréchet distance in DINOv2 features
(FD-DINOv2: Stein et al. 2023, dgm-eval; EDM2 reports it).

The network is facebookresearch/dinov2's `dinov2_vitl14`: 14x14 patches embedded to 1,024
channels, a class token, learned position embeddings (trained on a 37 x 37 grid and
interpolated bicubically to the input's grid, as the reference does: torch's bicubic with a
= -0.75 at scale (grid + 0.1) / 37, no antialiasing), 24 pre-norm blocks (LayerNorm eps
1e-6, 16-head attention, LayerScale, a 4,096-wide GELU MLP, LayerScale), a final LayerNorm.
Features are the normalised class token (1,024-d), the hub model's output.

Preprocessing is dgm-eval's: each uint8 image resized to 224 x 224 by PIL's bicubic (on the
host: `resize_for_dinov2`), scaled to [0, 1], normalised by ImageNet's mean and std.

Parameters carry the reference's names (`blocks.3.attn.qkv`, ...), so its state dict maps on
by name (`state_dict_to_params`); weights are read from `.npz` (`load_npz`), which
`scripts/convert_dinov2_weights.py` writes from the official `.pth` (`eval.weights`).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from flax import traverse_util

INPUT_SIZE = 224
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INTERPOLATE_OFFSET = 0.1  # The reference's interpolate_offset.
BICUBIC_A = -0.75  # torch's cubic convolution coefficient.


@dataclasses.dataclass(frozen=True)
class ViTSize:
    dim: int = 1024
    depth: int = 24
    heads: int = 16
    mlp_dim: int = 4096
    patch: int = 14
    grid: int = 37  # The position embeddings' grid (518 / 14).


VIT_L14 = ViTSize()
HEAD_DIM = 64  # Every DINOv2 ViT (S, B, L, g) has 64-d heads.


def size_of(state_dict: dict[str, np.ndarray]) -> ViTSize:
    """The ViT a reference state dict holds (ViT-L/14 for dinov2_vitl14; the smaller DINOv2
    ViTs and test-sized ones read the same way)."""
    try:
        dim = int(np.shape(state_dict["cls_token"])[-1])
        patch = int(np.shape(state_dict["patch_embed.proj.weight"])[-1])
        mlp_dim = int(np.shape(state_dict["blocks.0.mlp.fc1.weight"])[0])
        positions = int(np.shape(state_dict["pos_embed"])[1])
    except KeyError as e:
        raise ValueError(f"DINOv2 weights: missing {e.args[0]!r} (expected dinov2_vitl14's "
                         "state dict)") from None
    depth = 1 + max(int(k.split(".")[1]) for k in state_dict if k.startswith("blocks."))
    return ViTSize(dim, depth, max(dim // HEAD_DIM, 1), mlp_dim, patch,
                   int(round(math.sqrt(positions - 1))))


def bicubic_matrix(in_size: int, out_size: int, scale: float) -> np.ndarray:
    """[out, in] float64 weights of torch's 1-D bicubic interpolation (align_corners=False,
    no antialiasing) when given `scale_factor=scale`: source x = (i + 0.5) / scale - 0.5,
    taps at floor(x) - 1 .. floor(x) + 2 clamped to the border."""
    def cubic(t: np.ndarray) -> np.ndarray:
        t = np.abs(t)
        a = BICUBIC_A
        near = ((a + 2) * t - (a + 3)) * t * t + 1
        far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
        return np.where(t <= 1, near, np.where(t < 2, far, 0.0))

    weights = np.zeros((out_size, in_size))
    for i in range(out_size):
        x = (i + 0.5) / scale - 0.5
        base = math.floor(x)
        for tap in range(base - 1, base + 3):
            weights[i, min(max(tap, 0), in_size - 1)] += cubic(np.asarray(x - tap))
    return weights


def interpolated_positions(pos_embed: np.ndarray, grid_h: int, grid_w: int) -> np.ndarray:
    """The [1, 1 + grid_h * grid_w, dim] position embeddings of an input grid: the trained
    ones when the grid matches theirs, else their patch part resized as the reference does."""
    pos_embed = np.asarray(pos_embed, np.float64)
    trained = int(round(math.sqrt(pos_embed.shape[1] - 1)))
    if (grid_h, grid_w) == (trained, trained):
        return pos_embed.astype(np.float32)
    patches = pos_embed[0, 1:].reshape(trained, trained, -1)
    rows = bicubic_matrix(trained, grid_h, (grid_h + INTERPOLATE_OFFSET) / trained)
    cols = bicubic_matrix(trained, grid_w, (grid_w + INTERPOLATE_OFFSET) / trained)
    resized = np.einsum("ih,jw,hwc->ijc", rows, cols, patches)
    return np.concatenate([pos_embed[:, :1], resized.reshape(1, grid_h * grid_w, -1)],
                          axis=1).astype(np.float32)


class Attention(nn.Module):
    dim: int
    heads: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        b, n, _ = x.shape
        qkv = nn.Dense(3 * self.dim, name="qkv")(x).reshape(b, n, 3, self.heads, -1)
        q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
        scale = q.shape[-1] ** -0.5
        weights = jax.nn.softmax(jnp.einsum("bqhd,bkhd->bhqk", q * scale, k), axis=-1)
        out = jnp.einsum("bhqk,bkhd->bqhd", weights, v).reshape(b, n, self.dim)
        return nn.Dense(self.dim, name="proj")(out)


class Block(nn.Module):
    size: ViTSize

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        def norm(name: str) -> nn.LayerNorm:
            return nn.LayerNorm(epsilon=1e-6, name=name)

        def layer_scale(name: str) -> jax.Array:
            return self.param(name, nn.initializers.constant(1e-5), (self.size.dim,))

        x = x + layer_scale("ls1") * Attention(self.size.dim, self.size.heads,
                                               name="attn")(norm("norm1")(x))
        h = nn.Dense(self.size.mlp_dim, name="fc1")(norm("norm2")(x))
        h = nn.Dense(self.size.dim, name="fc2")(nn.gelu(h, approximate=False))
        return x + layer_scale("ls2") * h


class DINOv2(nn.Module):
    """float [n, H, W, 3], normalised, H and W multiples of the patch -> [n, dim] features.
    `pos_embed` is the position embedding of this input's grid (`interpolated_positions`)."""

    size: ViTSize = VIT_L14

    @nn.compact
    def __call__(self, x: jax.Array, pos_embed: jax.Array) -> jax.Array:
        s = self.size
        x = nn.Conv(s.dim, (s.patch, s.patch), (s.patch, s.patch), "VALID",
                    name="patch_embed")(x)
        x = x.reshape(x.shape[0], -1, s.dim)
        cls = self.param("cls_token", nn.initializers.zeros, (1, 1, s.dim))
        x = jnp.concatenate([jnp.broadcast_to(cls, (x.shape[0], 1, s.dim)), x], axis=1)
        x = x + pos_embed
        for i in range(s.depth):
            x = Block(s, name=f"blocks_{i}")(x)
        return nn.LayerNorm(epsilon=1e-6, name="norm")(x)[:, 0]


def preprocess(images: jax.Array) -> jax.Array:
    """float [n, 224, 224, 3] in [0, 255] (resized on the host) -> ImageNet-normalised."""
    mean = jnp.asarray(IMAGENET_MEAN, jnp.float32) * 255.0
    std = jnp.asarray(IMAGENET_STD, jnp.float32) * 255.0
    return (jnp.asarray(images, jnp.float32) - mean) / std


def resize_for_dinov2(images: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """uint8 [n, H, W, C] -> float32 [n, size, size, C] in [0, 255]: PIL's bicubic on each
    uint8 image (its result rounded to uint8), as torchvision's Resize does on PIL images."""
    from PIL import Image

    out = np.empty((images.shape[0], size, size, images.shape[-1]), np.float32)
    for i, image in enumerate(images):
        picture = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
        resized = np.asarray(picture.resize((size, size), Image.BICUBIC))
        out[i] = resized.reshape(size, size, -1)
    return out


# Reference names -> (Flax module path, leaf, transform) of the parameters.
_BLOCK_LEAVES = {
    "norm1.weight": ("norm1", "scale"), "norm1.bias": ("norm1", "bias"),
    "attn.qkv.weight": ("attn/qkv", "kernel"), "attn.qkv.bias": ("attn/qkv", "bias"),
    "attn.proj.weight": ("attn/proj", "kernel"), "attn.proj.bias": ("attn/proj", "bias"),
    "ls1.gamma": ("", "ls1"),
    "norm2.weight": ("norm2", "scale"), "norm2.bias": ("norm2", "bias"),
    "mlp.fc1.weight": ("fc1", "kernel"), "mlp.fc1.bias": ("fc1", "bias"),
    "mlp.fc2.weight": ("fc2", "kernel"), "mlp.fc2.bias": ("fc2", "bias"),
    "ls2.gamma": ("", "ls2"),
}
# Reference weights used by training only.
_UNUSED = ("mask_token",)


def reference_names(size: ViTSize = VIT_L14) -> list[str]:
    """Every weight name of the reference model's state dict."""
    names = ["cls_token", "pos_embed", "mask_token", "patch_embed.proj.weight",
             "patch_embed.proj.bias", "norm.weight", "norm.bias"]
    return names + [f"blocks.{i}.{leaf}" for i in range(size.depth) for leaf in _BLOCK_LEAVES]


def state_dict_to_params(state_dict: dict[str, np.ndarray], size: ViTSize = VIT_L14
                         ) -> tuple[dict, np.ndarray]:
    """The reference state dict -> (Flax params, the trained position embeddings). Linear
    weights [out, in] become kernels [in, out], the patch convolution [out, in, kh, kw]
    becomes [kh, kw, in, out]. Raises ValueError naming a missing, unknown or misshapen
    weight."""
    known = set(reference_names(size))
    unknown = sorted(k for k in state_dict if k not in known)
    if unknown:
        raise ValueError(f"DINOv2 weights: unknown names {unknown[:5]}"
                         + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
                         + " (expected dinov2_vitl14's state dict)")
    missing = [k for k in reference_names(size) if k not in state_dict and k not in _UNUSED]
    if missing:
        raise ValueError(f"DINOv2 weights: missing {missing[0]!r}"
                         + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""))

    def get(name: str, shape: tuple[int, ...]) -> np.ndarray:
        value = np.asarray(state_dict[name], np.float32)
        if value.shape != shape:
            raise ValueError(f"DINOv2 weights: {name!r} has shape {value.shape}, expected "
                             f"{shape}")
        return value

    d, m, p = size.dim, size.mlp_dim, size.patch
    flat = {
        ("cls_token",): get("cls_token", (1, 1, d)),
        ("patch_embed", "kernel"): get("patch_embed.proj.weight", (d, 3, p, p)
                                       ).transpose(2, 3, 1, 0),
        ("patch_embed", "bias"): get("patch_embed.proj.bias", (d,)),
        ("norm", "scale"): get("norm.weight", (d,)),
        ("norm", "bias"): get("norm.bias", (d,)),
    }
    shapes = {"attn.qkv.weight": (3 * d, d), "attn.qkv.bias": (3 * d,),
              "attn.proj.weight": (d, d), "mlp.fc1.weight": (m, d), "mlp.fc1.bias": (m,),
              "mlp.fc2.weight": (d, m)}
    for i in range(size.depth):
        for leaf, (module, name) in _BLOCK_LEAVES.items():
            value = get(f"blocks.{i}.{leaf}", shapes.get(leaf, (d,)))
            if name == "kernel":
                value = value.T
            path = (f"blocks_{i}", *[part for part in module.split("/") if part], name)
            flat[path] = value
    positions = get("pos_embed", (1, 1 + size.grid**2, d))
    return traverse_util.unflatten_dict(flat), positions


def save_npz(path: str, state_dict: dict[str, np.ndarray]) -> None:
    """Writes the reference state dict as a plain `.npz` (arrays only, no pickled objects),
    after checking that it loads."""
    state_dict_to_params(state_dict, size_of(state_dict))
    np.savez(path, **{k: np.asarray(v, np.float32) for k, v in state_dict.items()})


def load_npz(path: str) -> tuple[ViTSize, dict, np.ndarray]:
    """(the ViT's size, its params, its trained position embeddings) from an `.npz`."""
    with np.load(path, allow_pickle=False) as f:
        state_dict = {k: f[k] for k in f.files}
    size = size_of(state_dict)
    return (size, *state_dict_to_params(state_dict, size))
