"""Builds everything a config describes: data, models, loss, optimizers and the step.

Training, evaluation and benchmarking all start here, so they agree on what a config means.
The config arrives validated (`config.validate`, at the entry point); the names it holds
(dataset, models, loss, optimizers, metrics) are resolved here, once, before anything
compiles.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import linen as nn
from ml_collections import ConfigDict

from gan_jax import config as config_lib
from gan_jax import data as data_lib
from gan_jax import grids, losses, models, optim
from gan_jax.config import ConfigError
from gan_jax.data import streaming
from gan_jax.eval import path_length as path_length_lib
from gan_jax.eval.extractors import build_extractor, check_extractor, missing_extractor
from gan_jax.eval.images import ImageEvaluator, parse_metrics
from gan_jax.eval.mixtures import mixture_metrics, mode_accuracy
from gan_jax.eval.translation import translation_metrics
from gan_jax.models.latent import sample_latent
from gan_jax.models.standing import BATCH_STATS, batch_statistics, standing_statistics
from gan_jax.parallel import ParallelPlan, plan_from_config
from gan_jax.state import GANState, create_state
from gan_jax.step import (
    StepSettings,
    apply_model,
    example_keys,
    make_train_step,
    with_path_length_state,
)
from gan_jax.translation_step import TranslationSettings, make_translation_step

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
    loss: losses.GANLoss
    g_tx: optax.GradientTransformation
    d_tx: optax.GradientTransformation
    settings: StepSettings | TranslationSettings
    plan: ParallelPlan
    # Why the configured image metrics cannot be computed (no trained extractor), or "".
    skipped_metrics: str = ""
    num_classes: int = 0  # > 0: both players are conditioned on class labels.
    _cache: dict[str, Any] = dataclasses.field(default_factory=dict)

    def for_seed(self, seed: int) -> Experiment:
        """The same built parts under another seed (a vectorised-seed replica)."""
        config = ConfigDict(self.config.to_dict())
        config.seed = seed
        config.train.num_seeds = 1
        return dataclasses.replace(self, config=config)

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
        if self.config.loss.pl_weight:
            state = state.replace(g_state=with_path_length_state(state.g_state))
        return state

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

    def train_step(self):
        make = make_translation_step if self.translation else make_train_step
        return make(self.generator, self.discriminator, self.loss, self.g_tx, self.d_tx,
                    self.settings, self.dataset.sample)

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

    def latents(self, key: jax.Array, num: int) -> jax.Array:
        return sample_latent(key, num, self.config.model.latent_dim,
                             self.config.model.latent_dist)

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

    def class_grid(self, key: jax.Array, per_class: int,
                   classes: Any = None) -> tuple[jax.Array, np.ndarray]:
        """Latents and labels of a grid with one row per class of `classes` (default: all) and
        `per_class` columns; column j uses the same latent in every row."""
        classes = np.arange(self.num_classes) if classes is None else np.asarray(classes)
        z = self.latents(key, per_class)
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
        (as in training: see `step.example_keys`); else None."""
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
            outputs.append(grids.to_uint8(_translate(self.generator, params, g_state, batch,
                                                     jax.random.fold_in(key, start))))
        return np.concatenate(outputs)

    def held_out_pairs(self, num: int) -> tuple[np.ndarray, np.ndarray]:
        """The first `num` pairs of the reference split (`eval.reference_split`),
        centre-cropped: uint8 (inputs, targets). Read once."""
        if "held_out" not in self._cache:
            dataset = split_dataset(self.config, self.config.eval.reference_split)
            self._cache["held_out"] = dataset.held_out(dataset.load(), 10**9)
        inputs, targets = self._cache["held_out"]
        return inputs[:num], targets[:num]

    def evaluate_translation(self, state: GANState) -> dict[str, Any]:
        """l1, psnr, ssim and sharpness of the raw and EMA generators' translations of
        `eval.num_samples` held-out pairs, and `fd` of them to the real targets when
        `eval.metrics` asks for it."""
        results: dict[str, Any] = {"step": int(state.step), "raw": {}, "ema": {}}
        inputs, targets = self.held_out_pairs(self.config.eval.num_samples)
        key = self.stream_key(EVAL_STREAM)
        evaluator = self.image_evaluator()
        for name, (params, g_state) in self.generators(state).items():
            outputs = self.translate(params, g_state, inputs, jax.random.fold_in(key, 0))
            results[name] = translation_metrics(outputs, targets, self.config.eval.batch_size)
            if evaluator is not None:
                image_metrics = evaluator.evaluate(lambda s, n, o=outputs: o[s : s + n],
                                                   outputs.shape[0], jax.random.fold_in(key, 1))
                fd = [v for k, v in image_metrics.items() if k.startswith("fd_")]
                results[name] |= image_metrics | ({"fd": fd[0]} if fd else {})
        if self.skipped_metrics:
            results["skipped"] = {"metrics": self.config.eval.metrics,
                                  "reason": self.skipped_metrics}
        return results

    def evaluate(self, state: GANState) -> dict[str, Any]:
        """Metrics of the raw and EMA generators on `eval.num_samples` fixed latents (and
        class-balanced labels, when conditional): mode coverage and quality for 2D mixtures;
        `eval.metrics` for images."""
        if self.translation:
            return self.evaluate_translation(state)
        results: dict[str, Any] = {"step": int(state.step), "raw": {}, "ema": {}}
        num = self.config.eval.num_samples
        key = self.stream_key(EVAL_STREAM)
        labels = self.balanced_labels(num)
        if self.dataset.kind == "points":
            z = self.latents(key, num)
            for name, (params, g_state) in self.generators(state).items():
                points = self.generate(params, g_state, z, labels)
                results[name] = mixture_metrics(points, self.dataset.centres, self.dataset.std)
                if labels is not None:
                    results[name]["class_accuracy"] = mode_accuracy(
                        points, labels, self.dataset.centres, self.dataset.std)
            return results
        evaluator = self.image_evaluator()
        if evaluator is None:
            if self.skipped_metrics:  # First, so the printed JSON leads with why it is empty.
                return {"step": results["step"],
                        "skipped": {"metrics": self.config.eval.metrics,
                                    "reason": self.skipped_metrics}, "raw": {}, "ema": {}}
            return results
        z = self.latents(jax.random.fold_in(key, 0), num)
        keys = self.example_keys(jax.random.fold_in(key, 2), num)
        for name, (params, g_state) in self.generators(state).items():
            def produce(start: int, size: int, params=params, g_state=g_state) -> np.ndarray:
                rows = slice(start, start + size)
                images = self.generate(params, g_state, z[rows],
                                       None if labels is None else labels[rows],
                                       None if keys is None else keys[rows])
                return grids.to_uint8(images)  # Quantised like the real data.

            results[name] = evaluator.evaluate(produce, num, jax.random.fold_in(key, 1),
                                               labels)
            if "ppl" in evaluator.metrics:
                results[name] |= self.path_length(params, g_state, evaluator,
                                                  jax.random.fold_in(key, 3), num)
        return results

    def path_length(self, params: Any, g_state: Any, evaluator: ImageEvaluator,
                    key: jax.Array, num: int) -> dict[str, float]:
        """`ppl_w_<extractor>_n<num>`: perceptual path length in W of a style-based generator,
        through the evaluator's extractor (see gan_jax.eval.path_length)."""
        z_key, t_key, noise_key = jax.random.split(key, 3)
        z = self.latents(z_key, 2 * num)
        t = jax.random.uniform(t_key, (num,))
        keys = self.example_keys(noise_key, num)

        def make_pairs(start: int, size: int) -> tuple[np.ndarray, np.ndarray]:
            rows = slice(start, start + size)
            pair = _path_pair(self.generator, params, g_state, z[2 * start : 2 * (start + size)],
                              t[rows], keys[rows], path_length_lib.EPSILON)
            return np.asarray(pair[0]), np.asarray(pair[1])

        lengths = path_length_lib.path_lengths(evaluator.extractor, make_pairs, num,
                                               self.config.eval.batch_size)
        return {f"ppl_w_{evaluator.extractor.name}_n{num}":
                path_length_lib.perceptual_path_length(lengths)}

    def evaluate_real(self, split: str) -> dict[str, Any]:
        """The metrics of `eval.num_samples` real images of `split` against the reference
        split: the value a perfect generator would get (e.g. train against test)."""
        evaluator = self.image_evaluator()
        if evaluator is None:
            raise config_lib.ConfigError(self.skipped_metrics
                                         or "eval.metrics: empty; name the metrics to compute")
        dataset = split_dataset(self.config, split)
        images = dataset.reference_images(dataset.load(), self.stream_key(EVAL_STREAM),
                                          self.config.eval.num_samples)
        metrics = evaluator.evaluate(lambda s, n: images[s : s + n], images.shape[0],
                                     jax.random.fold_in(self.stream_key(EVAL_STREAM), 1))
        return {"split": split, "real": metrics}

    def image_evaluator(self) -> ImageEvaluator | None:
        """The evaluator `config.eval` describes (built once), or None if it names no metric."""
        if "evaluator" not in self._cache:
            self._cache["evaluator"] = (None if self.skipped_metrics
                                        else _build_image_evaluator(self.config))
        return self._cache["evaluator"]


def split_dataset(config: Any, split: str) -> Any:
    """The config's dataset, reading `split` instead of `data.split`."""
    return data_lib.build_dataset(ConfigDict({**config.data, "split": split}))


def _build_image_evaluator(config: Any) -> ImageEvaluator | None:
    metrics = parse_metrics(config.eval.metrics)
    if not metrics:
        return None
    split = config.eval.reference_split
    dataset = split_dataset(config, split)
    name = config.data.name
    if name == "image_folder":  # Different folders must not share a cache file.
        digest = hashlib.sha256(os.path.abspath(config.data.path).encode()).hexdigest()
        name = f"folder-{digest[:8]}"
    name += "-" + "x".join(str(d) for d in dataset.example_shape)
    cache_dir = config.eval.cache_dir or os.path.expanduser("~/.cache/gan_jax/reference_stats")
    return ImageEvaluator(
        extractor=build_extractor(config.eval.extractor, config.eval.extractor_path),
        metrics=metrics, dataset=dataset, dataset_name=name, split=split,
        cache_dir=cache_dir, batch_size=config.eval.batch_size)


@functools.partial(jax.jit, static_argnums=0)
def _batch_statistics(generator: nn.Module, params: Any, g_state: Any,
                      args: tuple[jax.Array, ...]) -> Any:
    return batch_statistics(generator, params, g_state, *args)


@functools.partial(jax.jit, static_argnums=0)
def _generate(generator: nn.Module, params: Any, g_state: Any, z: jax.Array,
              labels: jax.Array | None, extras: dict[str, Any]) -> jax.Array:
    args = (z,) if labels is None else (z, labels)
    return generator.apply({"params": params, **g_state}, *args, train=False, **extras)


@functools.partial(jax.jit, static_argnums=(0, 6))
def _path_pair(generator: nn.Module, params: Any, g_state: Any, z: jax.Array, t: jax.Array,
               keys: jax.Array, epsilon: float) -> tuple[jax.Array, jax.Array]:
    """Images at lerp(w0, w1, t) and at t + epsilon (same noise), w0 and w1 the ws of z's
    even and odd rows."""
    variables = {"params": params, **g_state}
    ws = generator.apply(variables, z, method=generator.map)
    w0, w1 = ws[0::2], ws[1::2]
    t = t[:, None, None]
    both = jnp.concatenate([w0 + t * (w1 - w0), w0 + (t + epsilon) * (w1 - w0)])
    images = generator.apply(variables, both, jnp.concatenate([keys, keys]),
                             method=generator.synthesize)
    return images[: z.shape[0] // 2], images[z.shape[0] // 2 :]


@functools.partial(jax.jit, static_argnums=0)
def _translate(generator: nn.Module, params: Any, g_state: Any, inputs: jax.Array,
               key: jax.Array) -> jax.Array:
    return apply_model(generator, params, g_state, inputs, False, dropout_key=key)[0]


def check_translation(config: Any, dataset: Any) -> None:
    """Paired data and model.condition='image' go together."""
    pairs = dataset.kind == "pairs"
    if config.model.condition == "image" and not pairs:
        raise ConfigError(f"model.condition: 'image' translates input images and needs paired "
                          f"data (aligned_folder, paired_folders, edges2mnist, ...), but "
                          f"dataset {config.data.name!r} is not paired")
    if pairs and config.model.condition != "image":
        raise ConfigError(f"model.condition: dataset {config.data.name!r} holds image pairs; "
                          "set model.condition='image' to translate them")
    if pairs and config.eval.standing_stats:
        raise ConfigError("eval.standing_stats: standing statistics are drawn from latents; "
                          "image-to-image translation does not take them (set it to 0)")
    if pairs:
        for key in ("gp_weight", "r1_weight", "dragan_weight"):
            if config.loss[key]:
                raise ConfigError(f"loss.{key}: gradient penalties are not implemented for "
                                  "image-to-image translation; set it to 0")


def check_packing(config: Any, plan: Any) -> None:
    """Packs are groups of m examples of one device's rows, judged without labels."""
    m = config.model.packing
    if m == 1:
        return
    if config.model.condition != "none":
        raise ConfigError(f"model.packing: {m} packs unconditional samples; it cannot be "
                          f"combined with model.condition={config.model.condition!r}")
    batch = config.train.batch_size
    if batch % (m * plan.num_replicas):
        per_device = "" if plan.num_replicas == 1 else (
            f" ({batch // plan.num_replicas} per device on {plan.num_replicas} devices)")
        raise ConfigError(f"model.packing: train.batch_size={batch}{per_device} does not "
                          f"divide into packs of {m}")


def check_unrolling(config: Any) -> None:
    """Unrolled D updates use D's plain loss: options that change it are refused."""
    if not config.train.unroll_steps:
        return
    what = f"train.unroll_steps: {config.train.unroll_steps} unrolled D updates"
    for key in ("gp_weight", "r1_weight", "dragan_weight"):
        if config.loss[key]:
            raise ConfigError(f"{what} take D's loss without penalties; set loss.{key}=0 or "
                              "train.unroll_steps=0")
    if config.train.diff_augment:
        raise ConfigError(f"{what} take D's loss without augmentation; set "
                          "train.diff_augment='' or train.unroll_steps=0")
    if config.model.condition != "none":
        raise ConfigError(f"{what} are for unconditional GANs, not "
                          f"model.condition={config.model.condition!r}")


def check_path_length(config: Any, plan: Any) -> None:
    """Path-length regularisation needs a style-based generator (one whose ws can be
    differentiated) and a batch that its shrink factor and the devices divide."""
    if not config.loss.pl_weight:
        return
    name = config.model.generator.get("name")
    if name != "stylegan" or config.model.condition != "none":
        raise ConfigError(f"loss.pl_weight: path-length regularisation needs an unconditional "
                          f"style-based generator (model.generator.name='stylegan'), not "
                          f"{name!r} with model.condition={config.model.condition!r}")
    shrink, batch = config.loss.pl_batch_shrink, config.train.batch_size
    if batch % (shrink * plan.num_replicas):
        raise ConfigError(f"loss.pl_batch_shrink: its batch, train.batch_size={batch} / "
                          f"{shrink}, must divide evenly over {plan.num_replicas} device(s)")


def check_augment(config: Any, dataset: Any) -> None:
    """DiffAugment needs images that D judges alone (its policy is parsed by the step's
    settings)."""
    if not config.train.diff_augment:
        return
    if dataset.kind != "images":
        raise ConfigError(f"train.diff_augment: augments images; dataset {config.data.name!r} "
                          f"holds {dataset.kind}" + (" (image-to-image translation is not "
                                                     "augmented)" if dataset.kind == "pairs"
                                                     else ""))


def resolve_classes(config: Any, dataset: Any) -> int:
    """The number of classes both players are conditioned on (0: unconditional), from the
    dataset and checked against `model.num_classes`."""
    if config.model.condition != "class":
        return 0
    found = getattr(dataset, "num_classes", None)
    if not found:
        raise ConfigError(f"model.condition: 'class' needs labelled data, but dataset "
                          f"{config.data.name!r} has no class labels")
    wanted = config.model.num_classes
    if wanted and wanted != found:
        raise ConfigError(f"model.num_classes: {wanted}, but dataset {config.data.name!r} has "
                          f"{found} classes (0 takes the dataset's)")
    return int(found)


def _check_eval(config: Any, dataset: Any) -> str:
    """Checks `config.eval` against the dataset; returns why its metrics will be skipped
    (their extractor is not trained yet), or ""."""
    metrics = parse_metrics(config.eval.metrics)
    if not metrics:
        return ""
    if dataset.kind == "points":
        raise config_lib.ConfigError(
            f"eval.metrics: {config.eval.metrics!r} are image metrics; 2D mixtures are always "
            "evaluated by modes and quality")
    if "ppl" in metrics and config.model.generator.get("name") != "stylegan":
        raise config_lib.ConfigError(
            "eval.metrics: 'ppl' (path length in W) needs a style-based generator "
            f"(model.generator.name='stylegan'), not {config.model.generator.get('name')!r}")
    check_extractor(config.eval.extractor)
    return missing_extractor(config.eval.extractor, config.eval.extractor_path,
                             config.data.name)


def build_experiment(config: Any) -> Experiment:
    """Builds the parts of a validated `config` (which must have a seed); compiles nothing.
    Unknown names raise ConfigError here."""
    if config.seed is None:
        raise config_lib.ConfigError("seed: must be resolved first (config.with_seed)")
    dataset = data_lib.build_dataset(config.data)
    if streaming.choose_input(config.train.input, config.train.device_data_limit_mb, dataset,
                              config.train.num_seeds):
        dataset = streaming.StreamedImages(dataset)
    check_translation(config, dataset)
    check_augment(config, dataset)
    num_classes = resolve_classes(config, dataset)
    dtype = jnp.bfloat16 if config.train.precision == "bfloat16" else jnp.float32
    num_steps, n_disc = config.train.num_steps, config.train.n_disc
    plan = plan_from_config(config.train)
    check_packing(config, plan)
    check_unrolling(config)
    check_path_length(config, plan)
    translation = config.model.condition == "image"
    return Experiment(
        config=config,
        dataset=dataset,
        generator=models.build_generator(config.model.generator, dataset.example_shape,
                                         plan.bn_axis_name, num_classes, translation, dtype),
        discriminator=models.build_discriminator(config.model.discriminator,
                                                 plan.bn_axis_name, num_classes, translation,
                                                 dtype),
        loss=losses.get_loss(config.loss.name),
        g_tx=optim.build_optimizer(config.optim.g, num_steps, "optim.g"),
        d_tx=optim.build_optimizer(config.optim.d, num_steps * n_disc, "optim.d"),
        settings=(TranslationSettings.from_config(config, plan) if translation
                  else StepSettings.from_config(config, plan, num_classes)),
        plan=plan,
        skipped_metrics=_check_eval(config, dataset),
        num_classes=num_classes,
    )
