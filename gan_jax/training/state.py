"""The GAN train state: one pytree holding everything a resumed run needs."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import linen as nn
from flax import struct

from gan_jax.training.packing import packed_shape

PyTree = Any


@struct.dataclass
class GANState:
    """Parameters, model state, two optimizer states, the generator EMA, step and key.

    `g_state` / `d_state` hold non-parameter collections (e.g. BatchNorm `batch_stats`); they
    are empty dicts for models without any. `rng` is the run's base key: the train step folds
    the step number into it, so the key schedule is a function of (seed, step) alone.
    """

    step: jax.Array
    rng: jax.Array
    g_params: PyTree
    d_params: PyTree
    g_state: PyTree
    d_state: PyTree
    g_opt_state: optax.OptState
    d_opt_state: optax.OptState
    ema_g_params: PyTree


def ema_decay_at(step: jax.Array | int, decay: float, rampup: float = 0.0
                 ) -> jax.Array | float:
    """The EMA decay of the generator update that follows `step` earlier ones.

    Without ramp-up, `decay`. With it (StyleGAN2-ADA), the EMA's half-life in images is at
    most `rampup` times the images seen, step x batch; since the half-life of `decay` is
    batch x log 0.5 / log decay images, the batch cancels: min(decay, 0.5 ** (1 / (rampup x
    step))), and 0 at step 0, so the EMA starts as a copy of G.
    """
    if not rampup:
        return decay
    step = jnp.asarray(step, jnp.float32)
    ramped = jnp.where(step > 0, 0.5 ** (1.0 / (rampup * jnp.maximum(step, 1.0))), 0.0)
    return jnp.minimum(decay, ramped)


def ema_initial_weight(steps: int, decay: float, rampup: float = 0.0,
                       start: int = 0) -> float:
    """How much of the EMA generator is still its initial weights after `steps` updates: the
    product of the decays so far, decay ** steps; with ramp-up or an EMA start 0, since the
    first update's decay is 0 (`ema_decay_at`, `update.ema_decay`)."""
    return 0.0 if (rampup or start) and steps else float(decay) ** steps


def split_variables(variables: PyTree) -> tuple[PyTree, PyTree]:
    """Flax variables -> (params, the other collections)."""
    variables = dict(variables)
    params = variables.pop("params")
    return params, variables


def initialise(module: nn.Module, rngs: Any, inputs: tuple[jax.Array, ...]) -> PyTree:
    """`module`'s variables for `inputs`: its initialisers run op by op, as they always have
    (one compiled program would fuse their float operations differently and change initial
    weights in the last bits), but the forward pass, which `lazy_init` skips on abstract
    inputs, does not run, and compiles nothing."""
    abstract = tuple(jax.ShapeDtypeStruct(a.shape, a.dtype) for a in inputs)
    return module.lazy_init(rngs, *abstract, train=False)


def create_state(
    seed: int,
    generator: nn.Module,
    discriminator: nn.Module,
    g_tx: optax.GradientTransformation,
    d_tx: optax.GradientTransformation,
    latent_dim: int,
    example_shape: tuple[int, ...],
    conditional: bool = False,
    condition_shape: tuple[int, ...] | None = None,
    packing: int = 1,
) -> GANState:
    """Initialises both players from `seed`: class-conditional ones with a label input, or,
    given `condition_shape`, image-to-image ones (G reads an input image of that shape, and D
    an (output, input) pair); D reads packs of `packing` examples. Deterministic: same seed,
    same state."""
    root = jax.random.PRNGKey(seed)
    g_key, d_key, train_key = jax.random.split(root, 3)
    x = jnp.zeros((1, *packed_shape(example_shape, packing)), jnp.float32)
    if condition_shape is not None:
        g_inputs = (jnp.zeros((1, *condition_shape), jnp.float32),)
        d_inputs = (x, g_inputs[0])
    else:
        labels = (jnp.zeros((1,), jnp.int32),) if conditional else ()
        g_inputs = (jnp.zeros((1, latent_dim), jnp.float32), *labels)
        d_inputs = (x, *labels)
    # A generator that samples with dropout draws from a "dropout" stream even at init.
    g_rngs = {"params": g_key, "dropout": jax.random.fold_in(g_key, 1)}
    g_params, g_state = split_variables(initialise(generator, g_rngs, g_inputs))
    d_params, d_state = split_variables(initialise(discriminator, d_key, d_inputs))
    return GANState(
        step=jnp.zeros((), jnp.int32),
        rng=train_key,
        g_params=g_params,
        d_params=d_params,
        g_state=g_state,
        d_state=d_state,
        g_opt_state=g_tx.init(g_params),
        d_opt_state=d_tx.init(d_params),
        ema_g_params=jax.tree.map(jnp.copy, g_params),
    )
