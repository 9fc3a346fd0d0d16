"""The built parts of an experiment (data, models, loss, optimizers, step) and the builder.

Training, evaluation and benchmarking all start here, so they agree on what a config means.
The config arrives validated (`training.checks.validate`, at the entry point).
`build_experiment` builds the dataset and the device plan, runs every combination check once
(`training.checks`), then resolves the names the config holds (models, loss, optimizers) and
builds them; nothing compiles until a step runs.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import linen as nn

from gan_jax import data as data_lib
from gan_jax import models
from gan_jax.config import ConfigError
from gan_jax.config.registry import import_modules
from gan_jax.data import streaming
from gan_jax.data.images import to_uint8
from gan_jax.models.latent import sample_latent
from gan_jax.models.standing import BATCH_STATS, batch_statistics, standing_statistics
from gan_jax.training import hyperparameters, objective, optim, schedules
from gan_jax.training.checks import check_experiment
from gan_jax.training.parallel import ParallelPlan, plan_from_config
from gan_jax.training.state import GANState, create_state
from gan_jax.training.step import StepSettings, make_train_step
from gan_jax.training.translation_step import TranslationSettings, make_translation_step
from gan_jax.training.update import apply_model, example_keys

# Streams of the seed that are not training steps, so they never collide with step keys.
EVAL_STREAM = 1_000_001
PLOT_STREAM = 1_000_002
DATA_STREAM = 1_000_003
STANDING_STREAM = 1_000_004


@dataclasses.dataclass(frozen=True, eq=False)
class Experiment:
    config: Any
    dataset: Any
    generator: nn.Module
    discriminator: nn.Module
    loss: objective.GANLoss
    g_tx: optax.GradientTransformation
    d_tx: optax.GradientTransformation
    settings: StepSettings | TranslationSettings
    plan: ParallelPlan
    # Why the configured image metrics cannot be computed (no trained extractor), or "".
    skipped_metrics: str = ""
    num_classes: int = 0  # > 0: both players are conditioned on class labels.
    # What is built once and reused (the image evaluator, held-out pairs).
    cache: dict[str, Any] = dataclasses.field(default_factory=dict)

    def for_config(self, config: Any) -> Experiment:
        """The same data and models under `config`, a validated config that differs from this
        one's only in seed and scalar hyperparameters (a vectorised replica): its loss,
        optimizers and step settings rebuilt, and its combinations checked."""
        check_experiment(config, self.dataset, self.plan)
        return dataclasses.replace(self, config=config, cache={},
                                   **training_parts(config, self.plan, self.num_classes))

    @property
    def translation(self) -> bool:
        """Whether this is image-to-image translation: G(a) for input images a."""
        return self.config.model.condition == "image"

    def init_state(self) -> GANState:
        state = create_state(
            self.config.seed, self.generator, self.discriminator, self.g_tx, self.d_tx,
            self.config.model.latent_dim, self.dataset.example_shape, self.num_classes > 0,
            self.dataset.condition_shape if self.translation else None,
            self.config.model.packing,
        )
        penalties = {"g": getattr(self.settings, "g_penalties", ()),
                     "d": getattr(self.settings, "d_penalties", ())}
        controls = {c.name: c.initial_state()
                    for c in getattr(self.settings, "controllers", ()) if c.adaptive}
        return state.replace(  # Regularisers' running states, e.g. path length's mean.
            g_state=objective.with_penalty_states(state.g_state, penalties["g"]),
            d_state={**objective.with_penalty_states(state.d_state, penalties["d"]),
                     **controls})

    def generators(self, state: GANState) -> dict[str, tuple[Any, Any]]:
        """{"raw": (params, model state), "ema": ...}: the two generators to sample and
        evaluate. With `eval.standing_stats` n > 0, the EMA generator's BatchNorm statistics
        are its own, averaged over n batches of its samples (see `standing_state`)."""
        ema_state = state.g_state
        if self.config.eval.standing_stats and BATCH_STATS in state.g_state:
            ema_state = self.standing_state(state.ema_g_params, state.g_state)
        return {"raw": (state.g_params, state.g_state), "ema": (state.ema_g_params, ema_state)}

    def standing_state(self, params: Any, g_state: Any) -> Any:
        """`g_state` with BatchNorm statistics averaged over `eval.standing_stats` batches of
        `train.batch_size` samples of the generator `params` (training mode), drawn from the
        seed: latents from fold_in(STANDING_STREAM key, i) and, when conditional,
        class-balanced labels."""
        batch, key = self.config.train.batch_size, self.stream_key(STANDING_STREAM)
        labels = self.balanced_labels(batch)
        # Outside pmap, BatchNorm cannot reduce over a device axis.
        generator = (self.generator.clone(bn_axis_name=None)
                     if getattr(self.generator, "bn_axis_name", None) else self.generator)

        def compute(i: int) -> Any:
            z = self.latents(jax.random.fold_in(key, i), batch)
            args = (z,) if labels is None else (z, jnp.asarray(labels))
            return _batch_statistics(generator, params, g_state, args)

        stats = standing_statistics(compute, range(self.config.eval.standing_stats))
        return {**g_state, BATCH_STATS: stats}

    def train_step(self, values: hyperparameters.Values | None = None):
        """`step(state, data)`; with `values` ({dotted key: traced scalar}), the step of the
        replica those values pick, inside a vmapped vectorised run (see training.replicas)."""
        parts = (training_parts(self.config, self.plan, self.num_classes, values) if values
                 else dict(loss=self.loss, g_tx=self.g_tx, d_tx=self.d_tx,
                           settings=self.settings))
        make = make_translation_step if self.translation else make_train_step
        return make(self.generator, self.discriminator, parts["loss"], parts["g_tx"],
                    parts["d_tx"], parts["settings"], self.dataset.sample)

    @property
    def streamed(self) -> bool:
        """Whether real batches are read on the host for every call (`train.input`)."""
        return isinstance(self.dataset, streaming.StreamedImages)

    def batch_feeder(self, first_batch: int) -> streaming.BatchFeeder:
        """The host pipeline of a streamed run's real batches, from batch `first_batch`."""
        return streaming.BatchFeeder(self.dataset.dataset, self.stream_key(DATA_STREAM),
                                     self.config.train.batch_size, first_batch)

    def device_data(self) -> Any:
        """The dataset's arrays on device (reads image data from disk: slow the first time)."""
        return self.dataset.device_data(self.stream_key(DATA_STREAM),
                                        self.config.train.batch_size)

    def stream_key(self, stream: int) -> jax.Array:
        return jax.random.fold_in(jax.random.PRNGKey(self.config.seed), stream)

    def latents(self, key: jax.Array, num: int, truncation: float = 0.0) -> jax.Array:
        """`num` latents; `truncation` > 0 draws them truncated to [-t, t] (`sample_latent`)."""
        return sample_latent(key, num, self.config.model.latent_dim,
                             self.config.model.latent_dist, truncation)

    def check_labels(self, labels: Any, what: str = "label") -> np.ndarray | None:
        """`labels` as int32, or None for an unconditional run; ConfigError for labels out of
        range, or labels given to (or missing for) a run that does not take them."""
        if labels is None:
            if self.num_classes:
                raise ConfigError(f"{what}: this run is class-conditional "
                                  f"({self.num_classes} classes); give the classes to draw")
            return None
        if not self.num_classes:
            raise ConfigError(f"{what}: this run is unconditional (model.condition='none'); "
                              "it takes no class labels")
        labels = np.asarray(labels)
        if labels.size and not 0 <= labels.min() <= labels.max() < self.num_classes:
            bad = labels[(labels < 0) | (labels >= self.num_classes)][0]
            raise ConfigError(f"{what}: class {bad} is out of range; this run has "
                              f"{self.num_classes} classes (0..{self.num_classes - 1})")
        return labels.astype(np.int32)

    def balanced_labels(self, num: int) -> np.ndarray | None:
        """0, 1, ..., K-1, 0, 1, ...: `num` class-balanced labels, or None if unconditional."""
        return np.arange(num, dtype=np.int32) % self.num_classes if self.num_classes else None

    def class_grid(self, key: jax.Array, per_class: int, classes: Any = None,
                   truncation: float = 0.0) -> tuple[jax.Array, np.ndarray]:
        """Latents and labels of a grid with one row per class of `classes` (default: all) and
        `per_class` columns; column j uses the same latent in every row."""
        classes = np.arange(self.num_classes) if classes is None else np.asarray(classes)
        z = self.latents(key, per_class, truncation)
        return (jnp.tile(z, (len(classes), 1)),
                np.repeat(classes, per_class).astype(np.int32))

    def generate(self, params: Any, g_state: Any, z: jax.Array, labels: Any = None,
                 keys: jax.Array | None = None, truncation: float = 1.0) -> np.ndarray:
        """Generator samples in eval mode, on the host (for `labels`, when conditional). A
        generator with per-example randomness draws it from `keys` (see `example_keys`;
        None: its fixed noise); a style-based one moves w towards its average by
        `truncation` (psi)."""
        labels = self.check_labels(labels)
        extras: dict[str, Any] = {}
        if keys is not None:
            extras["keys"] = keys
        if truncation != 1.0:
            extras["truncation"] = jnp.float32(truncation)
        return np.asarray(_generate(self.generator, params, g_state, z,
                                    None if labels is None else jnp.asarray(labels), extras))

    def example_keys(self, key: jax.Array, num: int) -> jax.Array | None:
        """Per-example keys for `generate`, when the generator draws per-example randomness
        (as in training: see `update.example_keys`); else None."""
        if not getattr(self.generator, "takes_example_keys", False):
            return None
        return example_keys(key, num)

    def translate(self, params: Any, g_state: Any, inputs: np.ndarray,
                  key: jax.Array) -> np.ndarray:
        """G's uint8 outputs for uint8 input images (eval mode; dropout, when G keeps it on
        at sampling, drawn from `key`), in batches of `eval.batch_size`, on the host."""
        if inputs.shape[1:] != self.dataset.condition_shape:
            raise ConfigError(f"input images of shape {inputs.shape[1:]}, but this run "
                              f"translates {self.dataset.condition_shape}")
        size, outputs = self.config.eval.batch_size, []
        for start in range(0, inputs.shape[0], size):
            batch = jnp.asarray(inputs[start : start + size], jnp.float32) / 127.5 - 1.0
            outputs.append(to_uint8(_translate(self.generator, params, g_state, batch,
                                                     jax.random.fold_in(key, start))))
        return np.concatenate(outputs)


@functools.partial(jax.jit, static_argnums=0)
def _batch_statistics(generator: nn.Module, params: Any, g_state: Any,
                      args: tuple[jax.Array, ...]) -> Any:
    return batch_statistics(generator, params, g_state, *args)


@functools.partial(jax.jit, static_argnums=0)
def _generate(generator: nn.Module, params: Any, g_state: Any, z: jax.Array,
              labels: jax.Array | None, extras: dict[str, Any]) -> jax.Array:
    args = (z,) if labels is None else (z, labels)
    return generator.apply({"params": params, **g_state}, *args, train=False, **extras)


@functools.partial(jax.jit, static_argnums=0)
def _translate(generator: nn.Module, params: Any, g_state: Any, inputs: jax.Array,
               key: jax.Array) -> jax.Array:
    return apply_model(generator, params, g_state, inputs, False, dropout_key=key)[0]




def build_experiment(config: Any) -> Experiment:
    """Builds the parts of a validated `config` (which must have a seed); compiles nothing.
    A setting that cannot work, or an unknown name, raises ConfigError here."""
    if config.seed is None:
        raise ConfigError("seed: must be resolved first (config.with_seed)")
    import_modules(config.imports)  # The user's registrations, before any name resolves.
    dataset = data_lib.build_dataset(config.data)
    if streaming.choose_input(config.train.input, config.train.device_data_limit_mb, dataset,
                              config.train.num_seeds):
        dataset = streaming.StreamedImages(dataset)
    plan = plan_from_config(config.train)
    num_classes, skipped_metrics = check_experiment(config, dataset, plan)
    dtype = jnp.bfloat16 if config.train.precision == "bfloat16" else jnp.float32
    translation = config.model.condition == "image"
    return Experiment(
        config=config,
        dataset=dataset,
        generator=models.build_generator(config.model.generator, dataset.example_shape,
                                         plan.bn_axis_name, num_classes, translation, dtype),
        discriminator=models.build_discriminator(config.model.discriminator,
                                                 plan.bn_axis_name, num_classes, translation,
                                                 dtype),
        plan=plan,
        skipped_metrics=skipped_metrics,
        num_classes=num_classes,
        **training_parts(config, plan, num_classes),
    )


def training_parts(config: Any, plan: ParallelPlan, num_classes: int,
                   values: hyperparameters.Values | None = None) -> dict[str, Any]:
    """The loss, optimizers and step settings of `config` (the parts its scalar
    hyperparameters enter); `values` gives a vectorised run's traced per-replica scalars."""
    num_steps, n_disc = config.train.num_steps, config.train.n_disc
    translation = config.model.condition == "image"

    def optimizer(player: str, updates: int) -> optax.GradientTransformation:
        section = f"optim.{player}"
        return optim.build_optimizer(
            config.optim[player], updates, section,
            schedules.configured(config, f"{player}_b2", updates, values),
            hyperparameters.section_values(values, section))

    return dict(
        loss=objective.get_loss(config.loss.name),
        g_tx=optimizer("g", num_steps),
        d_tx=optim.frozen(optimizer("d", num_steps * n_disc), config.train.freeze_d),
        settings=(TranslationSettings.from_config(config, plan, values) if translation
                  else StepSettings.from_config(config, plan, num_classes, values)),
    )
