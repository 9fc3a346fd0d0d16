"""DINOv2 ViT: the converter's names, the position embeddings' interpolation, the forward pass
against an independent NumPy reading of the reference's state dict, and FD-DINOv2."""

from __future__ import annotations

import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.eval import dinov2, metrics

# A test-sized ViT: 2 blocks of 128 channels (2 heads of 64), patch 14, a 4 x 4 trained grid.
TINY = dinov2.ViTSize(dim=128, depth=2, heads=2, mlp_dim=256, patch=14, grid=4)


def random_state_dict(size: dinov2.ViTSize = TINY, seed: int = 0) -> dict[str, np.ndarray]:
    """The reference's state dict (its names and shapes) with random weights."""
    rng = np.random.default_rng(seed)
    d, m, p = size.dim, size.mlp_dim, size.patch
    shapes = {"cls_token": (1, 1, d), "pos_embed": (1, 1 + size.grid**2, d),
              "mask_token": (1, d), "patch_embed.proj.weight": (d, 3, p, p),
              "patch_embed.proj.bias": (d,), "norm.weight": (d,), "norm.bias": (d,)}
    block = {"norm1.weight": (d,), "norm1.bias": (d,), "attn.qkv.weight": (3 * d, d),
             "attn.qkv.bias": (3 * d,), "attn.proj.weight": (d, d), "attn.proj.bias": (d,),
             "ls1.gamma": (d,), "norm2.weight": (d,), "norm2.bias": (d,),
             "mlp.fc1.weight": (m, d), "mlp.fc1.bias": (m,), "mlp.fc2.weight": (d, m),
             "mlp.fc2.bias": (d,), "ls2.gamma": (d,)}
    for i in range(size.depth):
        shapes |= {f"blocks.{i}.{k}": s for k, s in block.items()}
    state = {k: rng.normal(0, 0.05, s).astype(np.float32) for k, s in shapes.items()}
    for k in state:  # Near-identity norms and visible layer scales, as trained ones have.
        if k.endswith(("norm1.weight", "norm2.weight")) or k == "norm.weight":
            state[k] += 1.0
        if k.endswith("gamma"):
            state[k] = np.abs(state[k]) + 0.1
    return state


def numpy_reference(state: dict[str, np.ndarray], images: np.ndarray,
                    size: dinov2.ViTSize = TINY) -> np.ndarray:
    """The reference's forward pass in float64 NumPy, straight from its state dict (NCHW
    convolution as patches times the weight, qkv split as [3, heads, head_dim])."""
    x = np.asarray(images, np.float64).transpose(0, 3, 1, 2)  # NCHW, as torch.
    n, _, h, w = x.shape
    p, d = size.patch, size.dim
    patches = x.reshape(n, 3, h // p, p, w // p, p).transpose(0, 2, 4, 1, 3, 5)
    patches = patches.reshape(n, (h // p) * (w // p), 3 * p * p)
    tokens = patches @ state["patch_embed.proj.weight"].reshape(d, -1).T.astype(np.float64)
    tokens += state["patch_embed.proj.bias"]
    cls = np.broadcast_to(state["cls_token"], (n, 1, d))
    x = np.concatenate([cls, tokens], axis=1)
    x = x + dinov2.interpolated_positions(state["pos_embed"], h // p, w // p)

    def layer_norm(v, prefix):
        mean, var = v.mean(-1, keepdims=True), v.var(-1, keepdims=True)
        return (v - mean) / np.sqrt(var + 1e-6) * state[f"{prefix}.weight"] + state[
            f"{prefix}.bias"]

    def linear(v, prefix):
        return v @ state[f"{prefix}.weight"].T.astype(np.float64) + state[f"{prefix}.bias"]

    from scipy.special import erf

    heads = size.heads
    for i in range(size.depth):
        b = f"blocks.{i}"
        qkv = linear(layer_norm(x, f"{b}.norm1"), f"{b}.attn.qkv")
        qkv = qkv.reshape(n, -1, 3, heads, d // heads).transpose(2, 0, 3, 1, 4)
        q, k, v = qkv
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // heads)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        attn = scores / scores.sum(-1, keepdims=True)
        out = (attn @ v).transpose(0, 2, 1, 3).reshape(n, -1, d)
        x = x + state[f"{b}.ls1.gamma"] * linear(out, f"{b}.attn.proj")
        hidden = linear(layer_norm(x, f"{b}.norm2"), f"{b}.mlp.fc1")
        hidden = 0.5 * hidden * (1 + erf(hidden / np.sqrt(2)))
        x = x + state[f"{b}.ls2.gamma"] * linear(hidden, f"{b}.mlp.fc2")
    return layer_norm(x, "norm")[:, 0]


def flax_features(state, images, size=TINY):
    params, positions = dinov2.state_dict_to_params(state, size)
    grid = (images.shape[1] // size.patch, images.shape[2] // size.patch)
    pos = jnp.asarray(dinov2.interpolated_positions(positions, *grid))
    return np.asarray(dinov2.DINOv2(size).apply({"params": params}, jnp.asarray(images), pos))


@pytest.mark.parametrize("side", [56, 84])  # The trained 4 x 4 grid, and 6 x 6 interpolated.
def test_the_port_matches_the_reference_read_from_its_state_dict(side):
    state = random_state_dict()
    images = np.random.default_rng(1).normal(size=(3, side, side, 3)).astype(np.float32)
    expected = numpy_reference(state, images)
    got = flax_features(state, images)
    assert got.shape == (3, TINY.dim)
    # float32 through 2 blocks of 128 channels: ~1e-6 relative to unit-norm features.
    np.testing.assert_allclose(got, expected, atol=2e-5, rtol=1e-4)


def test_bicubic_interpolation_is_torchs_cubic_convolution():
    # At scale 1 it is the identity; every row sums to 1.
    np.testing.assert_allclose(dinov2.bicubic_matrix(5, 5, 1.0), np.eye(5), atol=1e-12)
    weights = dinov2.bicubic_matrix(37, 16, 16.1 / 37)
    np.testing.assert_allclose(weights.sum(1), 1.0, atol=1e-12)
    # Halving: output i samples x = 2i + 0.5 (half-pixel centres at the given scale), where
    # torch's a = -0.75 kernel weighs the four taps -3/32, 19/32, 19/32, -3/32.
    halved = dinov2.bicubic_matrix(8, 4, 0.5)
    np.testing.assert_allclose(halved[1, 1:5], [-3 / 32, 19 / 32, 19 / 32, -3 / 32])
    np.testing.assert_allclose(halved[0, :3], [0.5, 19 / 32, -3 / 32])  # Tap -1 clamps to 0.
    # The trained grid is returned as it is.
    positions = np.random.default_rng(0).normal(size=(1, 17, 8)).astype(np.float32)
    np.testing.assert_array_equal(dinov2.interpolated_positions(positions, 4, 4), positions)
    assert dinov2.interpolated_positions(positions, 6, 6).shape == (1, 37, 8)


def test_the_converter_maps_every_official_name_and_refuses_others(tmp_path):
    state = random_state_dict()
    assert sorted(state) == sorted(dinov2.reference_names(TINY))
    assert dinov2.size_of(state) == TINY
    params, _ = dinov2.state_dict_to_params(state, TINY)
    template = jax.eval_shape(lambda: dinov2.DINOv2(TINY).init(
        jax.random.PRNGKey(0), jnp.zeros((1, 56, 56, 3)), jnp.zeros((1, 17, TINY.dim))))
    assert jax.tree.structure(template["params"]) == jax.tree.structure(params)
    assert all(a.shape == b.shape for a, b in zip(jax.tree.leaves(template["params"]),
                                                  jax.tree.leaves(params), strict=True))
    with pytest.raises(ValueError, match=r"unknown names \['blocks.0.attn.q_bias'\]"):
        dinov2.state_dict_to_params({**state, "blocks.0.attn.q_bias": np.zeros(3)}, TINY)
    del state["blocks.1.ls2.gamma"]
    with pytest.raises(ValueError, match="missing 'blocks.1.ls2.gamma'"):
        dinov2.state_dict_to_params(state, TINY)
    state = random_state_dict()
    state["norm.bias"] = np.zeros(7, np.float32)
    with pytest.raises(ValueError, match=r"'norm.bias' has shape \(7,\), expected \(128,\)"):
        dinov2.state_dict_to_params(state, TINY)
    path = str(tmp_path / "w.npz")  # Round trip through the .npz the converter writes.
    dinov2.save_npz(path, random_state_dict())
    size, loaded, _ = dinov2.load_npz(path)
    assert size == TINY
    np.testing.assert_array_equal(loaded["blocks_1"]["fc2"]["kernel"],
                                  random_state_dict()["blocks.1.mlp.fc2.weight"].T)


def test_fd_dinov2_is_zero_for_a_set_against_itself_and_grows_with_blur(tmp_path):
    """Through the extractor (PIL bicubic to 224, normalisation, the ViT) with test weights."""
    from gan_jax.eval.extractors import load_dinov2

    path = str(tmp_path / "w.npz")
    dinov2.save_npz(path, random_state_dict())
    extractor = load_dinov2(path)
    rng = np.random.default_rng(3)
    smooth = np.cumsum(np.cumsum(rng.normal(size=(24, 32, 32, 3)), 1), 2)
    images = np.clip((smooth - smooth.min()) / np.ptp(smooth) * 255, 0, 255).astype(np.uint8)
    blurred = ((images[:, :-1, :-1].astype(np.float32) + images[:, 1:, 1:]
                + images[:, 1:, :-1] + images[:, :-1, 1:]) / 4).astype(np.uint8)
    blurred = np.pad(blurred, ((0, 0), (0, 1), (0, 1), (0, 0)), mode="edge")
    real = extractor(images).features
    assert real.shape == (24, TINY.dim) and extractor.name == "dinov2"

    def fd(a, b):
        stats = [metrics.FeatureStats(a.shape[-1]).update(f) for f in (a, b)]
        return metrics.frechet_distance_from_stats(*stats)

    # 0 up to float64 round-off, though 24 samples in 128-d give a singular covariance.
    assert abs(fd(real, real)) < 1e-9
    assert fd(real, extractor(blurred).features) > 1e-2
    gray = extractor(images[..., :1]).features  # 1 channel, read as RGB.
    assert gray.shape == real.shape


def test_the_resize_is_pils_bicubic_on_the_uint8_image():
    from PIL import Image

    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    resized = dinov2.resize_for_dinov2(image[None])[0]
    expected = np.asarray(Image.fromarray(image).resize((224, 224), Image.BICUBIC))
    np.testing.assert_array_equal(resized, expected.astype(np.float32))


HAVE_TORCH = importlib.util.find_spec("torch") is not None


@pytest.mark.skipif(not HAVE_TORCH, reason="needs torch (its bicubic interpolate): pip "
                    "install -e '.[reference]'")
def test_position_interpolation_matches_torch_interpolate():
    import torch

    positions = np.random.default_rng(0).normal(size=(1, 1 + 37 * 37, 8)).astype(np.float32)
    patches = torch.from_numpy(positions[:, 1:].reshape(1, 37, 37, 8)).permute(0, 3, 1, 2)
    scale = (16 + dinov2.INTERPOLATE_OFFSET) / 37
    expected = torch.nn.functional.interpolate(patches, scale_factor=(scale, scale),
                                               mode="bicubic", antialias=False)
    expected = expected.permute(0, 2, 3, 1).reshape(1, -1, 8).numpy()
    got = dinov2.interpolated_positions(positions, 16, 16)[:, 1:]
    np.testing.assert_allclose(got, expected, atol=1e-5)


HAVE_TRANSFORMERS = (importlib.util.find_spec("transformers") is not None
                     and importlib.util.find_spec("torch") is not None)


def official_names_of_transformers(hf: dict[str, np.ndarray], depth: int
                                   ) -> dict[str, np.ndarray]:
    """transformers' Dinov2Model state dict (its 4.x or 5.x names) renamed to the official
    facebookresearch/dinov2 names, q, k and v joined into one qkv as the official one has."""
    state = {"cls_token": hf["embeddings.cls_token"], "mask_token": hf["embeddings.mask_token"],
             "pos_embed": hf["embeddings.position_embeddings"],
             "patch_embed.proj.weight": hf["embeddings.patch_embeddings.projection.weight"],
             "patch_embed.proj.bias": hf["embeddings.patch_embeddings.projection.bias"],
             "norm.weight": hf["layernorm.weight"], "norm.bias": hf["layernorm.bias"]}
    for i in range(depth):
        h, b = f"encoder.layer.{i}", f"blocks.{i}"
        if f"{h}.attention.q_proj.weight" in hf:  # transformers 5 names
            qkv = [f"{h}.attention.{n}_proj" for n in "qkv"]
            out = f"{h}.attention.o_proj"
        else:  # transformers 4 names
            qkv = [f"{h}.attention.attention.{n}" for n in ("query", "key", "value")]
            out = f"{h}.attention.output.dense"
        state |= {f"{b}.attn.qkv.weight": np.concatenate([hf[f"{q}.weight"] for q in qkv]),
                  f"{b}.attn.qkv.bias": np.concatenate([hf[f"{q}.bias"] for q in qkv]),
                  f"{b}.attn.proj.weight": hf[f"{out}.weight"],
                  f"{b}.attn.proj.bias": hf[f"{out}.bias"],
                  f"{b}.ls1.gamma": hf[f"{h}.layer_scale1.lambda1"],
                  f"{b}.ls2.gamma": hf[f"{h}.layer_scale2.lambda1"]}
        for name in ("norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
                     "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"):
            state[f"{b}.{name}"] = hf[f"{h}.{name}"]
    return state


@pytest.mark.skipif(not HAVE_TRANSFORMERS, reason="needs transformers and torch (the "
                    "independent DINOv2 implementation): pip install -e '.[reference]'")
@pytest.mark.parametrize("network,side", [("tiny", 224), ("tiny", 32), ("vit_l14", 32)])
def test_the_port_matches_transformers_dinov2_with_random_weights(network, side, tmp_path,
                                                                  monkeypatch):
    # 224 given, or 32 x 32 resized to 224. The full ViT-L/14 goes the user's way: a .pth
    # through scripts/convert_dinov2_weights.py to the .npz that gan_jax loads. Its trained
    # grid here is the 16 x 16 of a 224 input: transformers resizes position embeddings by
    # output size, the official code by scale factor (its offset of 0.1), and the port follows
    # the official one, checked against torch's interpolate above.
    import runpy

    import torch
    from transformers import Dinov2Config, Dinov2Model

    torch.manual_seed(0)
    dims = (dict(hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                 intermediate_size=256) if network == "tiny" else
            dict(hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                 intermediate_size=4096))
    config = Dinov2Config(**dims, patch_size=14, image_size=224, layerscale_value=0.5)
    model = Dinov2Model(config).eval()
    state = official_names_of_transformers(
        {k: v.numpy() for k, v in model.state_dict().items()}, config.num_hidden_layers)
    if network == "tiny":
        size = dinov2.size_of(state)
        params, positions = dinov2.state_dict_to_params(state, size)
    else:
        pth, npz = str(tmp_path / "dinov2.pth"), str(tmp_path / "dinov2.npz")
        torch.save({k: torch.from_numpy(v) for k, v in state.items()}, pth)
        monkeypatch.setattr("sys.argv", ["convert_dinov2_weights.py", pth, npz])
        runpy.run_path("scripts/convert_dinov2_weights.py", run_name="__main__")
        size, params, positions = dinov2.load_npz(npz)
        assert size == dinov2.ViTSize(grid=16)  # ViT-L/14's widths, read back from the file.
    images = np.random.default_rng(0).integers(0, 256, (2, side, side, 3), dtype=np.uint8)
    pixels = np.asarray(dinov2.preprocess(dinov2.resize_for_dinov2(images)))
    with torch.no_grad():
        expected = model(pixel_values=torch.from_numpy(
            pixels.transpose(0, 3, 1, 2).copy())).pooler_output.numpy()
    pos = jnp.asarray(dinov2.interpolated_positions(positions, 16, 16))
    got = np.asarray(jax.jit(dinov2.DINOv2(size).apply)({"params": params}, pixels, pos))
    # float32 both ways, summed in other orders over up to 24 blocks: features are O(1).
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)
