"""Evaluation of a run, in one place: what `gan-train` measures at `train.eval_every` and at
the end, what `gan-evaluate` measures of a run directory, and the real-data baseline.

The metrics themselves are pure functions in `gan_jax.eval` (their table:
`gan_jax.eval.images.IMAGE_METRICS`); this module draws the samples for them. Samples come
from fixed streams of the seed: latents from fold_in(EVAL_STREAM key, 0), per-example noise
from stream 2, the metrics' own randomness from stream 1, path-length draws from stream 3.
The raw and the EMA generator see the same latents.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from ml_collections import ConfigDict

from gan_jax import data as data_lib
from gan_jax.config import ConfigError
from gan_jax.data.images import to_uint8
from gan_jax.eval import path_length as path_length_lib
from gan_jax.eval.extractors import build_extractor, missing_extractor
from gan_jax.eval.images import (
    IMAGE_METRICS,
    FeatureSet,
    ImageEvaluator,
    compare,
    extract,
    parse_metrics,
    read_fid_statistics,
)
from gan_jax.eval.metrics import FeatureStats
from gan_jax.eval.mixtures import mixture_metrics, mode_accuracy
from gan_jax.eval.protocols import PROTOCOLS, parse_protocols
from gan_jax.eval.translation import translation_metrics
from gan_jax.runs import rundir
from gan_jax.runs.writers import write_json_atomic
from gan_jax.training.experiment import EVAL_STREAM, Experiment
from gan_jax.training.state import GANState

# The protocols' samples: this stream of the evaluation key (apart from eval.metrics' samples).
PROTOCOL_STREAM = 4


def evaluate_workdir(workdir: str, num_samples: int | None = None,
                     overrides: dict[str, Any] | None = None,
                     baseline_split: str | None = None) -> dict[str, Any]:
    """Evaluates the raw and EMA generators of the latest checkpoint in `workdir` and writes
    `eval.json` there. `overrides` replace `eval.*` keys of the run's config (e.g. metrics or
    the extractor path, which may have been unset when the run trained). With
    `baseline_split`, real images of that split are measured the same way, under
    "real_<split>"."""
    overrides = dict(overrides or {})
    if num_samples is not None:
        overrides["num_samples"] = num_samples
    experiment, state = rundir.load_run(workdir, overrides)
    if experiment.config.eval.protocols:  # Asked for: missing weights are an error here.
        check_protocol_weights(experiment.config)
    results = evaluate(experiment, state)
    if baseline_split is not None:
        results[f"real_{baseline_split}"] = evaluate_real(experiment, baseline_split)["real"]
    write_json_atomic(os.path.join(workdir, "eval.json"), results)
    return results


def held_out_pairs(experiment: Experiment, num: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `num` pairs of the reference split (`eval.reference_split`),
    centre-cropped: uint8 (inputs, targets). Read once."""
    if "held_out" not in experiment.cache:
        dataset = split_dataset(experiment.config, experiment.config.eval.reference_split)
        experiment.cache["held_out"] = dataset.held_out(dataset.load(), 10**9)
    inputs, targets = experiment.cache["held_out"]
    return inputs[:num], targets[:num]

def evaluate_translation(experiment: Experiment, state: GANState) -> dict[str, Any]:
    """l1, psnr, ssim and sharpness of the raw and EMA generators' translations of
    `eval.num_samples` held-out pairs, and `fd` of them to the real targets when
    `eval.metrics` asks for it."""
    results: dict[str, Any] = {"step": int(state.step), "raw": {}, "ema": {}}
    inputs, targets = held_out_pairs(experiment, experiment.config.eval.num_samples)
    key = experiment.stream_key(EVAL_STREAM)
    evaluator = image_evaluator(experiment)
    for name, (params, g_state) in experiment.generators(state).items():
        outputs = experiment.translate(params, g_state, inputs, jax.random.fold_in(key, 0))
        results[name] = translation_metrics(outputs, targets, experiment.config.eval.batch_size)
        if evaluator is not None:
            image_metrics = evaluator.evaluate(lambda s, n, o=outputs: o[s : s + n],
                                               outputs.shape[0], jax.random.fold_in(key, 1))
            fd = [v for k, v in image_metrics.items() if k.startswith("fd_")]
            results[name] |= image_metrics | ({"fd": fd[0]} if fd else {})
    if experiment.skipped_metrics:
        results["skipped"] = {"metrics": experiment.config.eval.metrics,
                              "reason": experiment.skipped_metrics}
    return results

def evaluate(experiment: Experiment, state: GANState) -> dict[str, Any]:
    """Metrics of the raw and EMA generators on `eval.num_samples` fixed latents (and
    class-balanced labels, when conditional): mode coverage and quality for 2D mixtures;
    `eval.metrics` for images."""
    if experiment.translation:
        return evaluate_translation(experiment, state)
    results: dict[str, Any] = {"step": int(state.step), "raw": {}, "ema": {}}
    num = experiment.config.eval.num_samples
    key = experiment.stream_key(EVAL_STREAM)
    labels = experiment.balanced_labels(num)
    if experiment.dataset.kind == "points":
        z = experiment.latents(key, num)
        for name, (params, g_state) in experiment.generators(state).items():
            points = experiment.generate(params, g_state, z, labels)
            results[name] = mixture_metrics(points, experiment.dataset.centres,
                                            experiment.dataset.std)
            if labels is not None:
                results[name]["class_accuracy"] = mode_accuracy(
                    points, labels, experiment.dataset.centres, experiment.dataset.std)
        return results
    if experiment.config.eval.protocols:
        _, missing = protocol_weights_missing(experiment.config)
        results["protocols"] = ({"skipped": missing} if missing
                                else evaluate_protocols(experiment, state))
    evaluator = image_evaluator(experiment)
    if evaluator is None:
        if experiment.skipped_metrics:  # First, so the printed JSON leads with why it is empty.
            return {"step": results["step"],
                    "skipped": {"metrics": experiment.config.eval.metrics,
                                "reason": experiment.skipped_metrics}, "raw": {}, "ema": {},
                    **({"protocols": results["protocols"]} if "protocols" in results else {})}
        return results
    z = experiment.latents(jax.random.fold_in(key, 0), num)
    keys = experiment.example_keys(jax.random.fold_in(key, 2), num)
    for name, (params, g_state) in experiment.generators(state).items():
        def produce(start: int, size: int, params=params, g_state=g_state) -> np.ndarray:
            rows = slice(start, start + size)
            images = experiment.generate(params, g_state, z[rows],
                                   None if labels is None else labels[rows],
                                   None if keys is None else keys[rows])
            return to_uint8(images)  # Quantised like the real data.

        results[name] = evaluator.evaluate(produce, num, jax.random.fold_in(key, 1),
                                           labels)
        if "ppl" in evaluator.metrics:
            results[name] |= path_length(experiment, params, g_state, evaluator,
                                              jax.random.fold_in(key, 3), num)
    return results

# Protocol samples come in chunks of this many, chunk c from fold_in(stream key, c), so the
# first n samples are the same whatever the total.
PROTOCOL_CHUNK = 1_000


def protocol_batches(experiment: Experiment, params: Any, g_state: Any, num: int,
                     key: jax.Array) -> Iterator[np.ndarray]:
    """uint8 batches of the first `num` samples of the protocol stream of `key`: latents
    (and per-example keys) drawn per chunk of PROTOCOL_CHUNK, class-balanced labels when
    conditional."""
    batch = experiment.config.eval.batch_size
    labels = experiment.balanced_labels(num)
    for chunk in range(-(-num // PROTOCOL_CHUNK)):
        first = chunk * PROTOCOL_CHUNK
        size = min(PROTOCOL_CHUNK, num - first)
        z = experiment.latents(jax.random.fold_in(jax.random.fold_in(key, 0), chunk),
                               PROTOCOL_CHUNK)[:size]
        keys = experiment.example_keys(jax.random.fold_in(jax.random.fold_in(key, 2), chunk),
                                       PROTOCOL_CHUNK)
        for start in range(0, size, batch):
            rows = slice(start, min(start + batch, size))
            images = experiment.generate(
                params, g_state, z[rows],
                None if labels is None else labels[first + rows.start : first + rows.stop],
                None if keys is None else keys[rows])
            yield to_uint8(images)


def _first(features: FeatureSet, num: int) -> FeatureSet:
    """The first `num` samples' features (all of them when that is what was extracted)."""
    if features.count == num:
        return features
    kept = features.features[:num]
    stats = FeatureStats(kept.shape[-1]).update(kept)
    probs = None if features.probs is None else features.probs[:num]
    return FeatureSet(stats, kept, probs)


# The config key that gives the weights of each extractor the protocols read.
PROTOCOL_WEIGHTS = {"inception_v3": "inception_path", "dinov2": "dinov2_path"}
EXTRACTOR_TITLES = {"inception_v3": "InceptionV3", "dinov2": "DINOv2"}


def _weights_key(kind: str) -> str:
    """The eval key of extractor `kind`'s weights (eval.inception_path for any other)."""
    return PROTOCOL_WEIGHTS.get(kind, "inception_path")


def protocol_weights(config: Any, kind: str) -> str:
    """The weights of extractor `kind` the protocols read: eval.inception_path (or
    eval.dinov2_path), or the run's own extractor's when it is that one."""
    return config.eval[_weights_key(kind)] or (
        config.eval.extractor_path if config.eval.extractor == kind else "")


def protocol_weights_missing(config: Any) -> tuple[str, str]:
    """(the eval key, why) when the protocols' weights cannot be loaded (with how to get
    them); ("", "") when they can."""
    kinds = dict.fromkeys(PROTOCOLS[n].extractor for n in parse_protocols(config.eval.protocols))
    for kind in kinds:
        missing = missing_extractor(kind, protocol_weights(config, kind))
        if missing:
            key = _weights_key(kind)
            return f"eval.{key}", (f"{config.eval.protocols} read "
                                   f"{EXTRACTOR_TITLES.get(kind, kind)} "
                                   f"features: {missing}, then pass them with --{key} "
                                   f"(eval.{key})")
    return "", ""


def check_protocol_weights(config: Any) -> None:
    key, missing = protocol_weights_missing(config)
    if missing:
        raise ConfigError(f"{key}: {missing}")


def evaluate_protocols(experiment: Experiment, state: GANState) -> dict[str, Any]:
    """The `eval.protocols` of the raw and EMA generators: {"settings": what each name
    expands to, "raw": {protocol: value, full metric names: values}, "ema": ...}. Protocols
    that share an extractor and resize mode share one pass over the samples."""
    config = experiment.config
    names = parse_protocols(config.eval.protocols)
    if experiment.translation or experiment.dataset.kind == "points":
        raise ConfigError("eval.protocols: the named protocols measure unconditional or "
                          "class-conditional image generators")
    check_protocol_weights(config)
    key = jax.random.fold_in(experiment.stream_key(EVAL_STREAM), PROTOCOL_STREAM)
    results: dict[str, Any] = {"step": int(state.step),
                               "settings": {n: PROTOCOLS[n].settings() for n in names},
                               "raw": {}, "ema": {}}
    groups: dict[tuple[str, str], list[str]] = {}
    for name in names:
        groups.setdefault((PROTOCOLS[name].extractor, PROTOCOLS[name].resize), []).append(name)
    for (kind, mode), members in groups.items():
        extractor = build_extractor(kind, protocol_weights(config, kind), mode)
        counts = {PROTOCOLS[m].num_samples for m in members}
        keep = len(counts) > 1 or any(IMAGE_METRICS[PROTOCOLS[m].metric].keeps_features
                                      for m in members)
        references: dict[str, FeatureSet] = {}
        for generator, (params, g_state) in experiment.generators(state).items():
            fake = extract(extractor, protocol_batches(experiment, params, g_state,
                                                       max(counts), key), keep)
            for member in members:
                protocol = PROTOCOLS[member]
                subset = _first(fake, protocol.num_samples)
                split = protocol.split
                if split is not None and split not in references:
                    # All of the split; its features kept when a member of the group needs them.
                    dataset = split_dataset(config, split)
                    needs = tuple(PROTOCOLS[m].metric for m in members
                                  if PROTOCOLS[m].split == split)
                    evaluator = ImageEvaluator(extractor, needs, dataset,
                                               reference_name(config, dataset), split,
                                               cache_dir_of(config), config.eval.batch_size)
                    references[split] = evaluator.reference(10**12)
                real = references[split] if split is not None else subset
                values = compare((protocol.metric,), subset, real, extractor.name,
                                 split or "none", jax.random.fold_in(key, 1), False)
                headline = next(v for k, v in values.items() if not k.endswith("_std"))
                results[generator] |= {member: headline, **values}
    return results


def path_length(experiment: Experiment, params: Any, g_state: Any, evaluator: ImageEvaluator,
                key: jax.Array, num: int) -> dict[str, float]:
    """`ppl_w_<extractor>_n<num>`: perceptual path length in W of a style-based generator,
    through the evaluator's extractor (see gan_jax.eval.path_length)."""
    z_key, t_key, noise_key = jax.random.split(key, 3)
    z = experiment.latents(z_key, 2 * num)
    t = jax.random.uniform(t_key, (num,))
    keys = experiment.example_keys(noise_key, num)

    def make_pairs(start: int, size: int) -> tuple[np.ndarray, np.ndarray]:
        rows = slice(start, start + size)
        pair = _path_pair(experiment.generator, params, g_state, z[2 * start : 2 * (start + size)],
                          t[rows], keys[rows], path_length_lib.EPSILON)
        return np.asarray(pair[0]), np.asarray(pair[1])

    lengths = path_length_lib.path_lengths(evaluator.extractor, make_pairs, num,
                                           experiment.config.eval.batch_size)
    return {f"ppl_w_{evaluator.extractor.name}_n{num}":
            path_length_lib.perceptual_path_length(lengths)}

def evaluate_real(experiment: Experiment, split: str) -> dict[str, Any]:
    """The metrics of `eval.num_samples` real images of `split` against the reference
    split: the value a perfect generator would get (e.g. train against test)."""
    evaluator = image_evaluator(experiment)
    if evaluator is None:
        raise ConfigError(experiment.skipped_metrics
                                     or "eval.metrics: empty; name the metrics to compute")
    dataset = split_dataset(experiment.config, split)
    images = dataset.reference_images(dataset.load(), experiment.stream_key(EVAL_STREAM),
                                      experiment.config.eval.num_samples)
    metrics = evaluator.evaluate(lambda s, n: images[s : s + n], images.shape[0],
                                 jax.random.fold_in(experiment.stream_key(EVAL_STREAM), 1))
    return {"split": split, "real": metrics}

def image_evaluator(experiment: Experiment) -> ImageEvaluator | None:
    """The evaluator `config.eval` describes (built once), or None if it names no metric."""
    if "evaluator" not in experiment.cache:
        experiment.cache["evaluator"] = (None if experiment.skipped_metrics
                                    else build_image_evaluator(experiment.config))
    return experiment.cache["evaluator"]


def split_dataset(config: Any, split: str) -> Any:
    """The config's dataset, reading `split` instead of `data.split`."""
    return data_lib.build_dataset(ConfigDict({**config.data, "split": split}))


def reference_name(config: Any, dataset: Any) -> str:
    """The dataset's name in reference cache files (a folder's path digest for folders)."""
    name = config.data.name
    if name == "image_folder":  # Different folders must not share a cache file.
        digest = hashlib.sha256(os.path.abspath(config.data.path).encode()).hexdigest()
        name = f"folder-{digest[:8]}"
    return name + "-" + "x".join(str(d) for d in dataset.example_shape)


def cache_dir_of(config: Any) -> str:
    return config.eval.cache_dir or os.path.expanduser("~/.cache/gan_jax/reference_stats")


def build_image_evaluator(config: Any) -> ImageEvaluator | None:
    metrics = parse_metrics(config.eval.metrics)
    if not metrics:
        return None
    split = config.eval.reference_split
    dataset = split_dataset(config, split)
    name = reference_name(config, dataset)
    cache_dir = cache_dir_of(config)
    extractor = build_extractor(config.eval.extractor, config.eval.extractor_path,
                                config.eval.resize)
    published = None
    if config.eval.reference_stats:  # Checked against the extractor before any sample.
        probe = np.zeros((1, *dataset.example_shape), np.uint8)
        mu, sigma = read_fid_statistics(config.eval.reference_stats,
                                        extractor(probe).features.shape[-1], extractor.name)
        stem = os.path.splitext(os.path.basename(config.eval.reference_stats))[0]
        published = (mu, sigma, f"stats-{stem}")
    return ImageEvaluator(
        extractor=extractor, metrics=metrics, dataset=dataset, dataset_name=name, split=split,
        cache_dir=cache_dir, batch_size=config.eval.batch_size, reference_stats=published)


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
