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
from gan_jax.eval.extractors import build_extractor
from gan_jax.eval.images import ImageEvaluator, parse_metrics
from gan_jax.eval.mixtures import mixture_metrics, mode_accuracy
from gan_jax.eval.translation import translation_metrics
from gan_jax.runs import rundir
from gan_jax.runs.writers import write_json_atomic
from gan_jax.training.experiment import EVAL_STREAM, Experiment
from gan_jax.training.state import GANState


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
    evaluator = image_evaluator(experiment)
    if evaluator is None:
        if experiment.skipped_metrics:  # First, so the printed JSON leads with why it is empty.
            return {"step": results["step"],
                    "skipped": {"metrics": experiment.config.eval.metrics,
                                "reason": experiment.skipped_metrics}, "raw": {}, "ema": {}}
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


def build_image_evaluator(config: Any) -> ImageEvaluator | None:
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
