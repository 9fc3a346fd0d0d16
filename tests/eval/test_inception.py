"""FID InceptionV3: architecture, pytorch-fid preprocessing and the state-dict name mapping."""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.eval import inception
from gan_jax.eval.weights import read_pth


def _conv(name: str, cin: int, cout: int, kernel: tuple[int, int]) -> dict[str, tuple]:
    shapes = {f"{name}.conv.weight": (cout, cin, *kernel)}
    for leaf in ("weight", "bias", "running_mean", "running_var"):
        shapes[f"{name}.bn.{leaf}"] = (cout,)
    shapes[f"{name}.bn.num_batches_tracked"] = ()
    return shapes


def _block_a(name, cin, pool):
    return [(f"{name}.branch1x1", cin, 64, (1, 1)), (f"{name}.branch5x5_1", cin, 48, (1, 1)),
            (f"{name}.branch5x5_2", 48, 64, (5, 5)), (f"{name}.branch3x3dbl_1", cin, 64, (1, 1)),
            (f"{name}.branch3x3dbl_2", 64, 96, (3, 3)),
            (f"{name}.branch3x3dbl_3", 96, 96, (3, 3)), (f"{name}.branch_pool", cin, pool, (1, 1))]


def _block_c(name, c):
    return [(f"{name}.branch1x1", 768, 192, (1, 1)), (f"{name}.branch7x7_1", 768, c, (1, 1)),
            (f"{name}.branch7x7_2", c, c, (1, 7)), (f"{name}.branch7x7_3", c, 192, (7, 1)),
            (f"{name}.branch7x7dbl_1", 768, c, (1, 1)), (f"{name}.branch7x7dbl_2", c, c, (7, 1)),
            (f"{name}.branch7x7dbl_3", c, c, (1, 7)), (f"{name}.branch7x7dbl_4", c, c, (7, 1)),
            (f"{name}.branch7x7dbl_5", c, 192, (1, 7)), (f"{name}.branch_pool", 768, 192, (1, 1))]


def _block_e(name, cin):
    return [(f"{name}.branch1x1", cin, 320, (1, 1)), (f"{name}.branch3x3_1", cin, 384, (1, 1)),
            (f"{name}.branch3x3_2a", 384, 384, (1, 3)),
            (f"{name}.branch3x3_2b", 384, 384, (3, 1)),
            (f"{name}.branch3x3dbl_1", cin, 448, (1, 1)),
            (f"{name}.branch3x3dbl_2", 448, 384, (3, 3)),
            (f"{name}.branch3x3dbl_3a", 384, 384, (1, 3)),
            (f"{name}.branch3x3dbl_3b", 384, 384, (3, 1)),
            (f"{name}.branch_pool", cin, 192, (1, 1))]


def pytorch_fid_shapes() -> dict[str, tuple]:
    """The names and shapes of pytorch-fid's pt_inception-2015-12-05 state dict, written out
    from torchvision's InceptionV3 layer list (independently of the Flax module)."""
    convs = [("Conv2d_1a_3x3", 3, 32, (3, 3)), ("Conv2d_2a_3x3", 32, 32, (3, 3)),
             ("Conv2d_2b_3x3", 32, 64, (3, 3)), ("Conv2d_3b_1x1", 64, 80, (1, 1)),
             ("Conv2d_4a_3x3", 80, 192, (3, 3))]
    convs += _block_a("Mixed_5b", 192, 32) + _block_a("Mixed_5c", 256, 64)
    convs += _block_a("Mixed_5d", 288, 64)
    convs += [("Mixed_6a.branch3x3", 288, 384, (3, 3)),
              ("Mixed_6a.branch3x3dbl_1", 288, 64, (1, 1)),
              ("Mixed_6a.branch3x3dbl_2", 64, 96, (3, 3)),
              ("Mixed_6a.branch3x3dbl_3", 96, 96, (3, 3))]
    for name, c in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
        convs += _block_c(name, c)
    convs += [("Mixed_7a.branch3x3_1", 768, 192, (1, 1)),
              ("Mixed_7a.branch3x3_2", 192, 320, (3, 3)),
              ("Mixed_7a.branch7x7x3_1", 768, 192, (1, 1)),
              ("Mixed_7a.branch7x7x3_2", 192, 192, (1, 7)),
              ("Mixed_7a.branch7x7x3_3", 192, 192, (7, 1)),
              ("Mixed_7a.branch7x7x3_4", 192, 192, (3, 3))]
    convs += _block_e("Mixed_7b", 1280) + _block_e("Mixed_7c", 2048)
    shapes = {}
    for conv in convs:
        shapes.update(_conv(*conv))
    shapes["fc.weight"] = (1008, 2048)
    shapes["fc.bias"] = (1008,)
    return shapes


def synthetic_state_dict(seed: int = 0) -> dict[str, np.ndarray]:
    """Random weights of the real names and shapes, scaled so activations stay O(1)."""
    rng = np.random.default_rng(seed)  # A local generator: one jax draw per shape compiles.
    state = {}
    for name, shape in pytorch_fid_shapes().items():
        if name.endswith("num_batches_tracked"):
            state[name] = np.array(0, np.int64)
        elif name.endswith("running_var"):
            state[name] = np.ones(shape, np.float32)
        elif name.endswith(("running_mean", "bn.bias", "fc.bias")):
            state[name] = np.zeros(shape, np.float32)
        elif name.endswith("bn.weight"):
            state[name] = np.ones(shape, np.float32)
        else:
            fan_in = int(np.prod(shape[1:]))
            state[name] = (rng.standard_normal(shape) * np.sqrt(2 / fan_in)).astype(np.float32)
    return state


def test_parameter_count_matches_torchvision_derivation():
    # torchvision's InceptionV3 has 27,161,264 parameters; without the auxiliary classifier
    # (3,326,696) and with a 1,008-way fc instead of 1,000-way: 23,850,960.
    shapes = pytorch_fid_shapes()
    trainable = sum(int(np.prod(s)) for k, s in shapes.items()
                    if not k.endswith(("running_mean", "running_var", "num_batches_tracked")))
    assert trainable == 23_850_960
    template = jax.eval_shape(lambda: inception.FIDInceptionV3().init(
        jax.random.PRNGKey(0), jnp.zeros((1, 299, 299, 3))))
    assert sum(int(np.prod(x.shape)) for x in jax.tree.leaves(template["params"])) == trainable


@pytest.fixture(scope="module")
def state() -> dict[str, np.ndarray]:
    return synthetic_state_dict()


def test_state_dict_maps_every_name_with_transposes(state):
    variables = inception.state_dict_to_variables(state)
    conv = state["Mixed_6b.branch7x7_2.conv.weight"]  # [out, in, 1, 7]
    kernel = variables["params"]["Mixed_6b"]["branch7x7_2"]["conv"]["kernel"]
    assert kernel.shape == (1, 7, 128, 128)
    assert kernel[0, 5, 3, 7] == conv[7, 3, 0, 5]
    np.testing.assert_array_equal(variables["params"]["fc"]["kernel"], state["fc.weight"].T)
    np.testing.assert_array_equal(
        variables["batch_stats"]["Mixed_7c"]["branch_pool"]["bn"]["var"],
        state["Mixed_7c.branch_pool.bn.running_var"])


def test_state_dict_errors_name_the_key(state):
    missing = dict(state)
    del missing["Mixed_5b.branch5x5_2.bn.running_mean"]
    with pytest.raises(ValueError, match="missing 'Mixed_5b.branch5x5_2.bn.running_mean'"):
        inception.state_dict_to_variables(missing)
    with pytest.raises(ValueError, match="unexpected keys \\['AuxLogits.fc.weight'\\]"):
        inception.state_dict_to_variables({**state, "AuxLogits.fc.weight": np.zeros((1000, 768))})
    wrong = {**state, "fc.weight": np.zeros((1000, 2048), np.float32)}
    with pytest.raises(ValueError, match="'fc.weight' has shape"):
        inception.state_dict_to_variables(wrong)


def test_forward_with_synthetic_weights(tmp_path, state):
    path = str(tmp_path / "inception.npz")
    inception.save_npz(path, state)
    variables = inception.load_npz(path)
    images = jax.random.uniform(jax.random.PRNGKey(1), (2, 32, 32, 3), maxval=255.0)
    features, logits = jax.jit(inception.FIDInceptionV3().apply)(
        variables, inception.preprocess(images))
    assert features.shape == (2, 2048) and logits.shape == (2, 1008)
    assert np.isfinite(features).all() and (np.asarray(features) >= 0).all()  # Pooled ReLUs.
    assert not np.allclose(features[0], features[1])


def _torch_bilinear(images: np.ndarray, size: int) -> np.ndarray:
    """PyTorch's F.interpolate(mode="bilinear", align_corners=False), written out."""
    def weights(n_in):
        src = np.maximum((np.arange(size) + 0.5) * n_in / size - 0.5, 0.0)
        lo = np.minimum(np.floor(src).astype(int), n_in - 1)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, src - lo

    lo_h, hi_h, fh = weights(images.shape[1])
    lo_w, hi_w, fw = weights(images.shape[2])
    rows = (images[:, lo_h] * (1 - fh)[None, :, None, None]
            + images[:, hi_h] * fh[None, :, None, None])
    fw = fw[None, None, :, None]
    return rows[:, :, lo_w] * (1 - fw) + rows[:, :, hi_w] * fw


@pytest.mark.parametrize("size", [28, 64, 320])
def test_preprocess_matches_pytorch_fid_resize(size):
    images = np.asarray(jax.random.uniform(jax.random.PRNGKey(size), (2, size, size, 3),
                                           maxval=255.0))
    expected = 2.0 * _torch_bilinear(images / 255.0, 299) - 1.0
    # float32 weights computed another way: 1e-4 of [-1, 1] is 0.013 of a grey level, while a
    # wrong convention (corner alignment, antialiasing) is off by whole grey levels.
    np.testing.assert_allclose(inception.preprocess(images), expected, atol=1e-4)


def test_avg_pool_ignores_padding_like_tensorflow():
    x = jnp.ones((1, 4, 4, 1))
    np.testing.assert_allclose(inception._avg_pool_same(x), 1.0)  # Zero padding would give 4/9.


@pytest.mark.skipif(not os.environ.get("GAN_JAX_INCEPTION_PTH"),
                    reason="set GAN_JAX_INCEPTION_PTH to pytorch-fid's pt_inception-2015-12-05 "
                    ".pth (not downloadable here) to compare with pytorch-fid")
def test_matches_pytorch_fid_with_real_weights(tmp_path):
    torch = pytest.importorskip("torch", reason="comparing with pytorch-fid needs torch")
    pytorch_fid = pytest.importorskip("pytorch_fid.inception", reason="needs pytorch-fid")
    pth = os.environ["GAN_JAX_INCEPTION_PTH"]
    npz = str(tmp_path / "inception.npz")
    inception.save_npz(npz, read_pth(pth))
    images = np.asarray(jax.random.uniform(jax.random.PRNGKey(0), (4, 64, 64, 3), maxval=255.0))
    ours = jax.jit(inception.FIDInceptionV3().apply)(inception.load_npz(npz),
                                                     inception.preprocess(images))[0]
    model = pytorch_fid.InceptionV3([3]).eval()
    with torch.no_grad():
        theirs = model(torch.from_numpy(images.transpose(0, 3, 1, 2) / 255.0).float())[0]
    np.testing.assert_allclose(ours, theirs.numpy().reshape(4, 2048), rtol=1e-3, atol=1e-3)


def test_matches_pytorch_fid_with_random_weights(tmp_path, state, monkeypatch):
    # pytorch-fid's own network, its weights download replaced by the same random state dict
    # that our converter reads: checks every layer, pooling and padding convention end to end.
    torch = pytest.importorskip("torch", reason="comparing with pytorch-fid needs torch")
    pytorch_fid = pytest.importorskip("pytorch_fid.inception", reason="needs pytorch-fid")
    tensors = {k: torch.from_numpy(np.array(v)) for k, v in state.items()}
    monkeypatch.setattr(pytorch_fid, "load_state_dict_from_url", lambda *a, **k: tensors)
    model = pytorch_fid.InceptionV3([3]).eval()
    images = np.asarray(jax.random.uniform(jax.random.PRNGKey(2), (2, 48, 48, 3), maxval=255.0))
    with torch.no_grad():
        theirs = model(torch.from_numpy(images.transpose(0, 3, 1, 2) / 255.0).float())[0]
    theirs = theirs.numpy().reshape(2, 2048)
    path = str(tmp_path / "inception.npz")
    inception.save_npz(path, state)
    ours = jax.jit(inception.FIDInceptionV3().apply)(inception.load_npz(path),
                                                     inception.preprocess(images))[0]
    # float32 through 94 convolutions, summed in another order: 1e-4 of the feature scale.
    scale = np.abs(theirs).max()
    np.testing.assert_allclose(ours, theirs, atol=1e-4 * scale, rtol=1e-3)


def test_convert_pth_reads_tensors_only(tmp_path, state):
    torch = pytest.importorskip("torch", reason="converting a .pth needs torch")
    pth, npz = str(tmp_path / "w.pth"), str(tmp_path / "w.npz")
    torch.save({k: torch.from_numpy(np.array(v)) for k, v in state.items()}, pth)
    inception.save_npz(npz, read_pth(pth))
    loaded = inception.load_npz(npz)
    np.testing.assert_array_equal(loaded["params"]["fc"]["kernel"], state["fc.weight"].T)
