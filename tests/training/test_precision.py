"""bfloat16 mixed precision: what is computed in bfloat16, what stays float32, and how close
the result stays to float32."""

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest
from ml_collections import ConfigDict

from gan_jax import config as config_lib
from gan_jax import models
from gan_jax.config.registry import ConfigError
from gan_jax.training.experiment import build_experiment
from gan_jax.training.update import apply_model
from tests.helpers import tiny_image_config, train_steps


def config_for(folder, precision):
    config = tiny_image_config(folder)
    config.model.discriminator.spectral_norm = "all"
    config.train.precision = precision
    for player in (config.optim.g, config.optim.d):  # Updates proportional to gradients.
        player.name, player.lr = "sgd", 0.01
    config_lib.validate(config)
    return config


def test_bfloat16_computes_in_bfloat16_and_keeps_state_in_float32(image_folder):
    experiments = {p: build_experiment(config_for(image_folder, p))
                   for p in ("float32", "bfloat16")}
    state = experiments["float32"].init_state()
    z = jax.random.normal(jax.random.PRNGKey(0), (8, 8))
    bf16 = experiments["bfloat16"]
    variables = {"params": state.g_params, **state.g_state}
    _, captured = bf16.generator.apply(variables, z, train=False,
                                       capture_intermediates=True, mutable=["intermediates"])
    inner = {k: v["__call__"][0].dtype for k, v in captured["intermediates"].items()
             if k != "__call__"}
    assert inner and set(inner.values()) == {jnp.dtype(jnp.bfloat16)}, inner
    outputs = {p: apply_model(e.generator, state.g_params, state.g_state, z, False)[0]
               for p, e in experiments.items()}
    logits = {p: apply_model(e.discriminator, state.d_params, state.d_state, outputs[p],
                             False)[0] for p, e in experiments.items()}
    # The players' outputs are float32; bfloat16 keeps 8 significant bits (relative rounding
    # 2**-9), which over a few layers and a BatchNorm stays within 2% of the image range.
    assert outputs["bfloat16"].dtype == logits["bfloat16"].dtype == jnp.float32
    assert float(jnp.max(jnp.abs(outputs["bfloat16"] - outputs["float32"]))) < 0.04
    np.testing.assert_allclose(logits["bfloat16"], logits["float32"], rtol=0.05, atol=0.02)

    trained = {p: train_steps(config_for(image_folder, p), 3) for p in experiments}
    dtypes = {leaf.dtype for leaf in jax.tree.leaves(trained["bfloat16"])
              if jnp.issubdtype(leaf.dtype, jnp.floating)}
    assert dtypes == {jnp.dtype(jnp.float32)}  # Params, optimizer, BN and power iteration.
    # Three SGD steps: each player's total update (proportional to its gradients) agrees
    # with float32's to within 10% of its size.
    for params in ("g_params", "d_params"):
        start = jax.flatten_util.ravel_pytree(getattr(state, params))[0]
        change = {p: jax.flatten_util.ravel_pytree(getattr(t, params))[0] - start
                  for p, t in trained.items()}
        error = jnp.linalg.norm(change["bfloat16"] - change["float32"])
        assert float(error / jnp.linalg.norm(change["float32"])) < 0.1, params


def test_a_family_without_bfloat16_is_named():
    with pytest.raises(ConfigError, match="train.precision: 'unet' .* computes in float32 only; "
                       "families that take bfloat16: biggan, dcgan, r3gan, resnet, "
                       "stylegan"):
        models.build_generator(ConfigDict(dict(name="unet")), (32, 32, 3), translation=True,
                               dtype=jnp.bfloat16)


@pytest.mark.parametrize("fields", [dict(name="r3gan", widths=(16, 8), blocks=2),
                                    dict(name="biggan", width=4, multipliers=(4, 2)),
                                    dict(name="stylegan", width=4, max_width=8,
                                         conv_clamp=256.0)],
                         ids=["r3gan", "biggan", "stylegan"])
def test_bfloat16_residual_families_stay_close_to_float32(fields):
    # R3GAN has no normalisation, so its rounding is not renormalised away: a block adds its
    # branch's bfloat16 rounding (relative 2**-9 per layer) to a residual stream kept in
    # bfloat16. Parameters are perturbed (R3GAN's blocks start as the identity).
    fields = ConfigDict(fields)
    players = {dtype: (models.build_generator(fields, (8, 8, 1), dtype=dtype),
                       models.build_discriminator(fields, dtype=dtype))
               for dtype in (jnp.float32, jnp.bfloat16)}
    generator, discriminator = players[jnp.float32]
    z = jax.random.normal(jax.random.PRNGKey(0), (16, 8))
    g_vars = generator.init(jax.random.PRNGKey(1), z, train=False)
    g_vars = jax.tree.map(lambda v: v + 0.05 * jax.random.normal(jax.random.PRNGKey(2), v.shape)
                          if v.ndim else v, g_vars)
    images = {d: g.apply(g_vars, z, train=False) for d, (g, _) in players.items()}
    d_vars = discriminator.init(jax.random.PRNGKey(3), images[jnp.float32], train=False)
    logits = {d: dis.apply(d_vars, images[jnp.float32], train=False)
              for d, (_, dis) in players.items()}
    assert images[jnp.bfloat16].dtype == logits[jnp.bfloat16].dtype == jnp.float32
    scale = float(jnp.max(jnp.abs(images[jnp.float32])))
    assert float(jnp.max(jnp.abs(images[jnp.bfloat16] - images[jnp.float32]))) < 0.03 * scale
    np.testing.assert_allclose(logits[jnp.bfloat16], logits[jnp.float32], rtol=0.05,
                               atol=0.03 * float(jnp.max(jnp.abs(logits[jnp.float32]))))
