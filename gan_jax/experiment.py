"""Builds everything a config describes: data, models, loss, optimizers and the step.

Training, evaluation and benchmarking all start here, so they agree on what a config means.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import numpy as np
import optax
from flax import linen as nn

from gan_jax import config as config_lib
from gan_jax import data as data_lib
from gan_jax import losses, models, optim
from gan_jax.eval.mixtures import mixture_metrics
from gan_jax.models.latent import sample_latent
from gan_jax.state import GANState, create_state
from gan_jax.step import StepSettings, apply_model, make_train_step

# Streams of the seed that are not training steps, so they never collide with step keys.
EVAL_STREAM = 1_000_001
PLOT_STREAM = 1_000_002
DATA_STREAM = 1_000_003


@dataclasses.dataclass(frozen=True, eq=False)
class Experiment:
    config: Any
    dataset: Any
    generator: nn.Module
    discriminator: nn.Module
    loss: losses.GANLoss
    g_tx: optax.GradientTransformation
    d_tx: optax.GradientTransformation
    settings: StepSettings

    def init_state(self) -> GANState:
        return create_state(
            self.config.seed, self.generator, self.discriminator, self.g_tx, self.d_tx,
            self.config.model.latent_dim, self.dataset.example_shape,
        )

    def train_step(self):
        return make_train_step(
            self.generator, self.discriminator, self.loss, self.g_tx, self.d_tx,
            self.settings, self.dataset.sample,
        )

    def device_data(self) -> Any:
        """The dataset's arrays on device (reads image data from disk: slow the first time)."""
        return self.dataset.device_data(self.stream_key(DATA_STREAM),
                                        self.config.train.batch_size)

    def stream_key(self, stream: int) -> jax.Array:
        return jax.random.fold_in(jax.random.PRNGKey(self.config.seed), stream)

    def latents(self, key: jax.Array, num: int) -> jax.Array:
        return sample_latent(key, num, self.config.model.latent_dim,
                             self.config.model.latent_dist)

    def generate(self, params: Any, g_state: Any, z: jax.Array) -> np.ndarray:
        """Generator samples in eval mode, on the host."""
        return np.asarray(_generate(self.generator, params, g_state, z))

    def evaluate(self, state: GANState) -> dict[str, Any]:
        """Metrics of the raw and EMA generators on `eval.num_samples` fixed latents: mode
        coverage and quality for 2D mixtures; none yet for images."""
        results: dict[str, Any] = {"step": int(state.step), "raw": {}, "ema": {}}
        if self.dataset.kind != "points":
            return results
        z = self.latents(self.stream_key(EVAL_STREAM), self.config.eval.num_samples)
        for name, params in (("raw", state.g_params), ("ema", state.ema_g_params)):
            points = self.generate(params, state.g_state, z)
            results[name] = mixture_metrics(points, self.dataset.centres, self.dataset.std)
        return results


@functools.partial(jax.jit, static_argnums=0)
def _generate(generator: nn.Module, params: Any, g_state: Any, z: jax.Array) -> jax.Array:
    return apply_model(generator, params, g_state, z, train=False)[0]


def build_experiment(config: Any) -> Experiment:
    """Validates `config` (which must have a seed) and builds its parts; compiles nothing."""
    config_lib.validate(config)
    if config.seed is None:
        raise config_lib.ConfigError("seed: must be resolved first (config.with_seed)")
    dataset = data_lib.build_dataset(config.data)
    num_steps, n_disc = config.train.num_steps, config.train.n_disc
    return Experiment(
        config=config,
        dataset=dataset,
        generator=models.build_generator(config.model.generator, dataset.example_shape),
        discriminator=models.build_discriminator(config.model.discriminator),
        loss=losses.get_loss(config.loss.name),
        g_tx=optim.build_optimizer(config.optim.g, num_steps, "optim.g"),
        d_tx=optim.build_optimizer(config.optim.d, num_steps * n_disc, "optim.d"),
        settings=StepSettings.from_config(config),
    )
