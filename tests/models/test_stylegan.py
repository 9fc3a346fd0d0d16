"""The style-based players: modulation, AdaIN, mixing, noise, truncation and their checks."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import traverse_util

from gan_jax.config.registry import ConfigError
from gan_jax.models import stylegan
from gan_jax.models.conv import conv2d

SHAPE = (16, 16, 1)
Z = 8


def tiny_generator(style: str = "modulation", **overrides) -> stylegan.StyleGANGenerator:
    fields = dict(output_shape=SHAPE, style=style, w_dim=Z, mapping_depth=2, width=4,
                  max_width=8, mixing_prob=0.9)
    return stylegan.StyleGANGenerator(**{**fields, **overrides})


@functools.cache
def initialised(style: str):
    generator = tiny_generator(style)
    init = jax.jit(functools.partial(generator.init, train=False))
    return generator, init(jax.random.PRNGKey(0), jnp.zeros((1, Z)))


def is_style(module, _) -> bool:
    return module.name == "style"


@functools.cache
def sampler(generator: stylegan.StyleGANGenerator, train: bool = False, mutable=False,
            capture=False):
    """generator.apply(variables, z, keys=..., truncation=...), compiled (whole programs compile
    faster than op-by-op execution runs); `capture` records the style vectors."""
    return jax.jit(functools.partial(generator.apply, train=train, mutable=mutable,
                                     capture_intermediates=is_style if capture else False))


def latents(num: int, seed: int = 1) -> jax.Array:
    return jax.random.normal(jax.random.PRNGKey(seed), (num, Z))


def with_noise_strength(variables, value: float):
    """`variables` with every layer's noise strengths set to `value`."""
    flat = traverse_util.flatten_dict(variables["params"])
    flat = {k: jnp.full_like(v, value) if k[-1] == "noise_strength" else v
            for k, v in flat.items()}
    return {**variables, "params": traverse_util.unflatten_dict(flat)}


def test_demodulated_weights_have_unit_norm_per_output_channel():
    kernel = jax.random.normal(jax.random.PRNGKey(0), (3, 3, 5, 7))
    styles = jax.random.uniform(jax.random.PRNGKey(1), (4, 5), minval=0.1, maxval=3.0)
    weights = stylegan.modulated_weights(kernel, styles)
    norms = jnp.sqrt(jnp.sum(jnp.square(weights), axis=(1, 2, 3)))
    np.testing.assert_allclose(norms, 1.0, rtol=1e-5)
    # Not demodulated: the kernel with its input channels scaled.
    plain = stylegan.modulated_weights(kernel, styles, demodulate=False)
    np.testing.assert_allclose(plain[2, :, :, 3], kernel[:, :, 3] * styles[2, 3], rtol=1e-6)


@pytest.mark.parametrize("demodulate", [True, False])
def test_modulated_conv_equals_each_example_convolved_with_its_own_weights(demodulate):
    x = jax.random.normal(jax.random.PRNGKey(0), (3, 6, 6, 5))
    kernel = jax.random.normal(jax.random.PRNGKey(1), (3, 3, 5, 7))
    styles = jax.random.uniform(jax.random.PRNGKey(2), (3, 5), minval=0.1, maxval=3.0)
    fast = stylegan.modulated_conv(x, kernel, styles, demodulate)
    weights = stylegan.modulated_weights(kernel, styles, demodulate)
    slow = jnp.concatenate([conv2d(x[i : i + 1], weights[i], (1, 1), ((1, 1), (1, 1)), None)
                            for i in range(3)])
    np.testing.assert_allclose(fast, slow, rtol=1e-4, atol=1e-5)


def test_adain_output_has_the_styles_mean_and_scale_per_channel():
    x = 3.0 + 2.0 * jax.random.normal(jax.random.PRNGKey(0), (2, 8, 8, 4))
    scale = jnp.array([[0.5, 1.0, 2.0, 3.0], [1.5, 0.2, 1.0, 4.0]])
    bias = jnp.array([[-1.0, 0.0, 1.0, 2.0], [0.3, -0.3, 5.0, 0.0]])
    y = stylegan.adain(x, scale, bias)
    np.testing.assert_allclose(jnp.mean(y, axis=(1, 2)), bias, atol=1e-5)
    np.testing.assert_allclose(jnp.std(y, axis=(1, 2)), scale, rtol=1e-4)


def test_filtered_resampling_keeps_constant_images_constant():
    ones = jnp.ones((1, 8, 8, 2))
    up = stylegan.upsample(ones)
    assert up.shape == (1, 16, 16, 2)
    # Away from the zero-padded border, a constant stays the same constant.
    np.testing.assert_allclose(up[:, 2:-2, 2:-2], 1.0, rtol=1e-6)
    down = stylegan.downsample(ones)
    assert down.shape == (1, 4, 4, 2)
    np.testing.assert_allclose(down[:, 1:-1, 1:-1], 1.0, rtol=1e-6)
    # A checkerboard (the highest frequency) is removed by the low-pass filter.
    board = (-1.0) ** (jnp.arange(8)[:, None] + jnp.arange(8)[None, :])
    blurred = stylegan.blur(board[None, :, :, None], (1, 2))
    assert float(jnp.max(jnp.abs(blurred[:, 1:-2, 1:-2]))) < 1e-6  # Away from the padding.


def test_style_mixing_takes_later_layers_from_the_second_latent():
    ws = jnp.zeros((3, 6, 2))
    mixed = jnp.ones((3, 6, 2))
    out = stylegan.mix_styles(ws, mixed, jnp.array([1, 3, 6]))
    taken = np.asarray(out[:, :, 0])
    np.testing.assert_array_equal(taken, [[0, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1],
                                          [0, 0, 0, 0, 0, 0]])


def style_outputs(generator, variables, z, keys, train):
    """Each synthesis layer's style vector (the output of its `style` dense layer)."""
    _, state = sampler(generator, train, ("intermediates", "stats"), True)(variables, z,
                                                                           keys=keys)
    flat = traverse_util.flatten_dict(state["intermediates"])
    synthesis = {k[1]: v[0] for k, v in flat.items() if k[0] == "synthesis"}
    names = [f"layer{i}" for i in range(len(synthesis))]
    ordered = [n for n in names if n in synthesis]
    return [synthesis[n] for n in ordered]


def test_generator_mixing_changes_styles_from_one_cutoff_on():
    """Training calls with mixing_prob 1: per example, the styles of layers before some
    cutoff c (1 <= c < num_ws) are those of the unmixed call and all later ones differ."""
    generator = tiny_generator("modulation", mixing_prob=1.0)
    _, variables = initialised("modulation")
    z, keys = latents(6), jax.random.split(jax.random.PRNGKey(5), 6)
    plain = style_outputs(generator, variables, z, keys, train=False)
    mixed = style_outputs(generator, variables, z, keys, train=True)
    assert len(plain) == generator.num_ws - 1  # Styled conv layers (toRGB styles aside).
    cutoffs = set()
    for example in range(6):
        changed = [not np.allclose(p[example], m[example]) for p, m in zip(plain, mixed,
                                                                            strict=True)]
        cutoff = changed.index(True) if True in changed else len(changed)
        assert changed == [False] * cutoff + [True] * (len(changed) - cutoff), changed
        assert 1 <= cutoff
        cutoffs.add(cutoff)
    assert len(cutoffs) > 1  # Cutoffs are drawn per example.


@pytest.mark.parametrize("style", stylegan.STYLES)
def test_truncation_to_zero_gives_one_image_for_every_latent(style):
    generator, variables = initialised(style)
    variables = {**variables, "stats": {"w_avg": jnp.linspace(-1, 1, Z)}}
    images = sampler(generator)(variables, latents(4), truncation=0.0)
    np.testing.assert_allclose(images, jnp.broadcast_to(images[:1], images.shape), atol=1e-5)
    untruncated = sampler(generator)(variables, latents(4), truncation=1.0)
    assert not np.allclose(untruncated[0], untruncated[1])


@pytest.mark.parametrize("style", stylegan.STYLES)
def test_noise_acts_only_through_its_strengths(style):
    generator, variables = initialised(style)
    z = latents(2)
    draw = sampler(generator)
    keys_a = jax.random.split(jax.random.PRNGKey(1), 2)
    keys_b = jax.random.split(jax.random.PRNGKey(2), 2)
    # Strengths start at 0: the noise has no effect.
    np.testing.assert_array_equal(draw(variables, z, keys=keys_a), draw(variables, z,
                                                                         keys=keys_b))
    noisy = with_noise_strength(variables, 0.5)
    a, b = draw(noisy, z, keys=keys_a), draw(noisy, z, keys=keys_b)
    assert float(jnp.max(jnp.abs(a - b))) > 1e-3  # Same w, other noise: another image...
    np.testing.assert_array_equal(a, draw(noisy, z, keys=keys_a))  # ...same noise: the same.
    # Without keys the noise is a fixed pattern: the same for every call.
    np.testing.assert_array_equal(draw(noisy, z), draw(noisy, z))


def test_an_image_depends_on_its_own_latent_and_key_only():
    generator, variables = initialised("modulation")
    noisy = with_noise_strength(variables, 0.5)
    z, keys = latents(4), jax.random.split(jax.random.PRNGKey(3), 4)
    whole = sampler(generator)(noisy, z, keys=keys)
    part = sampler(generator)(noisy, z[2:], keys=keys[2:])
    np.testing.assert_allclose(whole[2:], part, atol=1e-5)


def test_training_calls_track_the_average_w():
    generator, variables = initialised("modulation")
    z, keys = latents(16), jax.random.split(jax.random.PRNGKey(3), 16)
    _, state = sampler(generator, True, ("stats",))(variables, z, keys=keys)
    w = jax.jit(functools.partial(generator.apply, method=generator.map))(variables, z)[:, 0]
    np.testing.assert_allclose(state["stats"]["w_avg"], (1 - 0.995) * jnp.mean(w, axis=0),
                               rtol=1e-4, atol=1e-7)
    # Eval calls leave it alone.
    _, state = sampler(generator, False, ("stats",))(variables, z)
    np.testing.assert_array_equal(state["stats"]["w_avg"], 0.0)


def test_minibatch_stddev_appends_the_group_standard_deviation():
    x = jax.random.normal(jax.random.PRNGKey(0), (6, 4, 4, 3))
    y = stylegan.minibatch_stddev(x, group_size=4)  # gcd(4, 6) = 2: groups of 2.
    assert y.shape == (6, 4, 4, 4)
    np.testing.assert_array_equal(y[..., :3], x)
    first = jnp.mean(jnp.sqrt(jnp.var(x[:2], axis=0) + 1e-8))
    np.testing.assert_allclose(y[0, :, :, 3], first, rtol=1e-5)
    np.testing.assert_allclose(y[1, :, :, 3], first, rtol=1e-5)


def test_equalised_learning_rate_scales_weights_at_use():
    layer = stylegan.EqualDense(64, lr_mul=0.01)
    x = jax.random.normal(jax.random.PRNGKey(0), (512, 256))
    variables = layer.init(jax.random.PRNGKey(1), x)
    # Stored with std 1 / lr_mul; used with std 1 / sqrt(fan in): unit-variance outputs.
    assert 80 < float(jnp.std(variables["params"]["kernel"])) < 120
    assert 0.9 < float(jnp.std(layer.apply(variables, x))) < 1.1


@pytest.mark.parametrize("style", stylegan.STYLES)
def test_players_make_and_judge_images(style):
    generator, variables = initialised(style)
    images = sampler(generator)(variables, latents(4))
    assert images.shape == (4, *SHAPE) and bool(jnp.all(jnp.isfinite(images)))
    discriminator = stylegan.StyleGANDiscriminator(width=4, max_width=8)
    d_vars = jax.jit(discriminator.init)(jax.random.PRNGKey(0), images)
    logits = jax.jit(discriminator.apply)(d_vars, images)
    assert logits.shape == (4,) and bool(jnp.all(jnp.isfinite(logits)))


@pytest.mark.parametrize("fields, message", [
    (dict(output_shape=(27, 27, 1)), r"cannot make \(27, 27, 1\) images"),
    (dict(output_shape=(4, 4, 1)), "for one k >= 1 and bases in"),
    (dict(output_shape=(64, 8, 1)), "bases in \\[4, 16\\]"),
    (dict(mixing_prob=1.5), "mixing_prob: a probability in [0, 1], got 1.5"),
    (dict(style="adanorm"), "model.generator.style: 'adanorm' is not one of adain, "
                            "modulation"),
])
def test_bad_generator_settings_are_refused_in_one_line(fields, message):
    if "\\" not in message and "(" not in message:
        message = message.replace("[", r"\[").replace("]", r"\]")
    with pytest.raises(ConfigError, match=message):
        tiny_generator(**fields).check_config()


def test_class_conditional_players_read_the_label_as_stylegan2_ada_does():
    """G maps [normalised z, normalised label embedding]; D projects its features onto its
    own mapping of the label: both depend on the label, and labels enter nowhere else."""
    generator = tiny_generator(num_classes=3)
    z = latents(6)
    labels = jnp.array([0, 1, 2, 0, 1, 2])
    variables = jax.jit(functools.partial(generator.init, train=False))(
        jax.random.PRNGKey(0), z, labels)
    mapping = variables["params"]["mapping"]
    assert mapping["embed"]["kernel"].shape == (3, Z)
    assert mapping["dense0"]["kernel"].shape == (2 * Z, Z)  # [z, embedding] -> w.
    apply = jax.jit(functools.partial(generator.apply, train=False))
    images = apply(variables, z, labels)
    relabelled = apply(variables, z, (labels + 1) % 3)
    assert images.shape == (6, *SHAPE)
    assert float(jnp.min(jnp.max(jnp.abs(images - relabelled), axis=(1, 2, 3)))) > 1e-4
    # The embedding is scaled to unit mean square, like z: scaling its weights changes nothing.
    scaled = {**variables, "params": {**variables["params"], "mapping": {
        **mapping, "embed": {k: 5.0 * v for k, v in mapping["embed"].items()}}}}
    np.testing.assert_allclose(apply(scaled, z, labels), images, rtol=1e-4, atol=1e-5)

    discriminator = stylegan.StyleGANDiscriminator(width=4, max_width=8, num_classes=3,
                                                   mapping_depth=2)
    d_vars = jax.jit(functools.partial(discriminator.init, train=False))(
        jax.random.PRNGKey(1), images, labels)
    assert d_vars["params"]["logit"]["kernel"].shape == (8, 8)  # cmap_dim: the 4x4 width.
    assert d_vars["params"]["mapping"]["embed"]["kernel"].shape == (3, 8)
    judge = jax.jit(functools.partial(discriminator.apply, train=False))
    logits = judge(d_vars, images, labels)
    assert logits.shape == (6,)
    assert float(jnp.min(jnp.abs(logits - judge(d_vars, images, (labels + 1) % 3)))) > 1e-6
    with pytest.raises(ValueError, match="needs labels"):
        judge(d_vars, images)


def test_conditional_style_mixing_keeps_the_label():
    """The second latent of a mixed example is mapped for the same label: with mixing on
    every example and all layers past the first mixed, the label still moves the image."""
    generator = tiny_generator(num_classes=2, mixing_prob=1.0)
    z, keys = latents(4), jax.random.split(jax.random.PRNGKey(3), 4)
    labels = jnp.array([0, 1, 0, 1])
    variables = generator.init(jax.random.PRNGKey(0), z, labels, train=False)
    ws = generator.apply(variables, z, labels, method=generator.map)
    mixed = generator.apply(variables, ws, z, keys, 1.0, labels, method=generator.mix)
    other = generator.apply(variables, ws, z, keys, 1.0, 1 - labels, method=generator.mix)
    later = (slice(None), slice(-1, None))  # The last layer is mixed for every cutoff.
    assert float(jnp.max(jnp.abs(mixed[later] - other[later]))) > 1e-4
    np.testing.assert_array_equal(mixed[:, 0], ws[:, 0])


def test_conv_clamp_bounds_every_layer_output():
    x = jax.random.normal(jax.random.PRNGKey(0), (2, 4, 4, 4)) * 50.0
    w = jnp.ones((2, Z))
    layer = stylegan.StyleLayer(4, "modulation", conv_clamp=0.5)
    variables = layer.init(jax.random.PRNGKey(1), x, w, jnp.zeros((1, 4, 4, 1)))
    out = layer.apply(variables, x, w, jnp.zeros((1, 4, 4, 1)))
    assert float(jnp.max(jnp.abs(out))) == pytest.approx(0.5)
    unclamped = stylegan.StyleLayer(4, "modulation").apply(variables, x, w,
                                                           jnp.zeros((1, 4, 4, 1)))
    assert float(jnp.max(jnp.abs(unclamped))) > 1.0
    np.testing.assert_allclose(out, jnp.clip(unclamped, -0.5, 0.5), rtol=1e-6)


@pytest.mark.parametrize("low_precision_res, bfloat16", [(4, {8, 16}), (1, {16}), (0, set())])
def test_reduced_precision_covers_the_highest_resolutions_only(low_precision_res, bfloat16):
    """As StyleGAN2-ADA's num_fp16_res: 4 puts every resolution from 8 up in bfloat16 at
    16 x 16 (never 4 x 4), 1 the top one, 0 none; the image and the logit are float32."""
    generator = tiny_generator(dtype=jnp.bfloat16, low_precision_res=low_precision_res,
                               conv_clamp=256.0)
    z = latents(2)
    variables = generator.init(jax.random.PRNGKey(0), z, train=False)
    images, captured = generator.apply(variables, z, train=False, capture_intermediates=True,
                                       mutable=["intermediates"])
    layers = captured["intermediates"]["synthesis"]
    dtypes = {name: layers[name]["__call__"][0].dtype for name in layers
              if name.startswith("layer")}
    resolution = {"layer0": 4, "layer1": 8, "layer2": 8, "layer3": 16, "layer4": 16}
    assert {name: str(d) for name, d in dtypes.items()} == {
        name: "bfloat16" if r in bfloat16 else "float32" for name, r in resolution.items()}
    assert images.dtype == jnp.float32
    discriminator = stylegan.StyleGANDiscriminator(width=4, max_width=8, dtype=jnp.bfloat16,
                                                   low_precision_res=low_precision_res)
    d_vars = discriminator.init(jax.random.PRNGKey(1), images)
    assert discriminator.apply(d_vars, images).dtype == jnp.float32


def test_orig_discriminator_has_no_shortcuts():
    images = jnp.zeros((2, *SHAPE))
    params = {a: stylegan.StyleGANDiscriminator(width=4, max_width=8, architecture=a).init(
        jax.random.PRNGKey(0), images)["params"] for a in stylegan.ARCHITECTURES}
    assert {"skip16", "skip8"} <= set(params["resnet"])
    assert not any(name.startswith("skip") for name in params["orig"])
    assert set(params["orig"]) == set(params["resnet"]) - {"skip16", "skip8"}


def test_stylegan2_ada_cifar_preset_layout():
    """configs/stylegan2_ada_cifar10.py builds StyleGAN2-ADA's `cifar` networks: a 2-layer
    mapping from [z, embedding] (1024 -> 512), 512 channels throughout, D without shortcuts,
    an 8-layer label mapping onto a 512-d projection, bfloat16 from 8x8 up."""
    from configs import stylegan2_ada_cifar10
    from gan_jax import models

    config = stylegan2_ada_cifar10.get_config()
    generator = models.build_generator(config.model.generator, (32, 32, 3), num_classes=10,
                                       dtype=jnp.bfloat16)
    discriminator = models.build_discriminator(config.model.discriminator, num_classes=10,
                                               dtype=jnp.bfloat16)
    z, labels = jnp.zeros((2, 512)), jnp.zeros((2,), jnp.int32)
    g_shapes = jax.eval_shape(functools.partial(generator.init, train=False),
                              jax.random.PRNGKey(0), z, labels)["params"]
    mapping = g_shapes["mapping"]
    assert sorted(mapping) == ["dense0", "dense1", "embed"]
    assert mapping["dense0"]["kernel"].shape == (1024, 512)
    synthesis = g_shapes["synthesis"]
    assert {synthesis[f"layer{i}"]["kernel"].shape for i in range(7)} == {(3, 3, 512, 512)}
    images = jax.ShapeDtypeStruct((64, 32, 32, 3), jnp.float32)
    d_shapes = jax.eval_shape(functools.partial(discriminator.init, train=False),
                              jax.random.PRNGKey(0), images, jnp.zeros((64,), jnp.int32))
    d_params = d_shapes["params"]
    assert not any(name.startswith("skip") for name in d_params)
    assert len([k for k in d_params["mapping"] if k.startswith("dense")]) == 8
    assert d_params["logit"]["kernel"].shape == (512, 512)
    assert d_params["conv4"]["kernel"].shape == (3, 3, 513, 512)  # + the mbstd channel.
    count = sum(x.size for x in jax.tree.leaves(g_shapes))
    assert 20e6 < count < 22e6, count


def test_conditional_bfloat16_stylegan2_ada_setting_trains(tmp_path):
    """The CIFAR-10 preset, shrunk, on labelled 8x8 digits: bfloat16 with clamping, lazy R1,
    adaptive ADA and mixing; both players' label embeddings learn, and everything stays
    finite and float32."""
    from configs import stylegan2_ada_cifar10
    from tests.helpers import tiny_image_config, train_steps, write_digit_folder

    config = tiny_image_config(write_digit_folder(tmp_path / "data", {"train": 40}))
    config.data.channels = 1
    base = stylegan2_ada_cifar10.get_config()
    for section in ("model", "loss", "optim", "ada"):
        config[section] = base[section]
    config.model.latent_dim = 8
    config.model.generator.update(w_dim=8, width=4, max_width=8, mixing_prob=0.5)
    config.model.discriminator.update(width=4, max_width=8, mbstd_group=4, mapping_depth=2)
    config.loss.r1_interval = 2
    config.ada.interval = 1
    config.train.update(precision="bfloat16", ema_half_life=500.0, ema_rampup=0.05)
    from gan_jax.training.experiment import build_experiment

    start = build_experiment(config).init_state()
    state = train_steps(config, 3)
    for params in (state.g_params, state.d_params):
        assert all(bool(jnp.all(jnp.isfinite(x))) and x.dtype == jnp.float32
                   for x in jax.tree.leaves(params))
    for new, old in ((state.g_params["mapping"]["embed"], start.g_params["mapping"]["embed"]),
                     (state.d_params["mapping"]["embed"], start.d_params["mapping"]["embed"])):
        assert float(jnp.max(jnp.abs(new["kernel"] - old["kernel"]))) > 0


@pytest.mark.parametrize("shape, base", [((32, 16, 3), (8, 4)), ((28, 28, 1), (7, 7)),
                                         ((24, 48, 1), (6, 12)), ((16, 16, 1), (4, 4))])
def test_non_square_images_grow_from_a_rectangular_constant(shape, base):
    """H x W = b_h 2**k x b_w 2**k: the constant is b_h x b_w, every layer's noise the size of
    its resolution, D reads the rectangle down to the base; squares keep StyleGAN's plan."""
    generator = tiny_generator(output_shape=shape, mapping_depth=1)
    keys = jax.random.split(jax.random.PRNGKey(2), 3)
    variables = generator.init(jax.random.PRNGKey(0), latents(3), keys=keys)
    synthesis = variables["params"]["synthesis"]
    assert synthesis["const"].shape[:2] == base
    sides = [min(h, w) for h, w in stylegan.levels(shape)]
    assert sorted(n for n in synthesis if n.startswith("to_rgb")) == sorted(
        f"to_rgb{r}" for r in sides)
    assert stylegan.num_ws(shape) == generator.num_ws == 2 * len(sides)
    noise = stylegan.noise_shapes(shape)
    assert noise[0] == (*base, 1) and noise[-1] == (shape[0], shape[1], 1)
    images = generator.apply(variables, latents(3), keys=keys, train=False)
    assert images.shape == (3, *shape) and bool(jnp.all(jnp.isfinite(images)))
    given = [jnp.zeros((3, *s)) for s in noise]  # Noise of these shapes is accepted.
    ws = generator.apply(variables, latents(3), method=generator.map)
    assert generator.apply(variables, ws, None, given,
                           method=generator.synthesize).shape == images.shape
    discriminator = stylegan.StyleGANDiscriminator(width=4, max_width=8)
    d_vars = discriminator.init(jax.random.PRNGKey(1), images)
    assert f"conv{sides[0]}" in d_vars["params"]
    assert discriminator.apply(d_vars, images).shape == (3,)
