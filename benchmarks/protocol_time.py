"""Where the time of a named protocol goes: generation, resize + Inception features, statistics.

    python benchmarks/protocol_time.py --config configs/r3gan_cifar10.py --num 1000

Generates `--num` samples of the config's generator (randomly initialised: the cost of a
forward pass does not depend on the weights), reads them with InceptionV3 (random weights of
the FID network's shapes, pytorch-fid's resize to 299) and computes the Fréchet distance of
their statistics to a 2,048-d reference, timing each part; `--extrapolate` scales the first
two to that many samples (fid50k_full: 50,000). No dataset or weights are needed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gan_jax import config as config_lib  # noqa: E402
from gan_jax import data as data_lib  # noqa: E402
from gan_jax.commands.benchmark import machine_info  # noqa: E402
from gan_jax.eval import inception, metrics  # noqa: E402
from gan_jax.eval.extractors import load_inception  # noqa: E402
from gan_jax.runs.evaluation import protocol_batches  # noqa: E402
from gan_jax.training.checks import validate  # noqa: E402
from gan_jax.training.experiment import build_experiment  # noqa: E402

NAMES = {("params", "kernel"): "weight", ("params", "scale"): "weight",
         ("params", "bias"): "bias", ("batch_stats", "mean"): "running_mean",
         ("batch_stats", "var"): "running_var"}


def random_inception_npz(path: str) -> None:
    """The FID network's state dict with random weights (O(1) activations), as an .npz."""
    template = jax.eval_shape(lambda: inception.FIDInceptionV3().init(
        jax.random.PRNGKey(0), jnp.zeros((1, 299, 299, 3))))
    rng, state = np.random.default_rng(0), {}
    for (collection, *modules, leaf), shape in traverse_util.flatten_dict(
            dict(template)).items():
        name = ".".join([*modules, NAMES[(collection, leaf)]])
        shape = shape.shape
        if leaf == "kernel":  # Back to torch's layouts.
            shape = (shape[3], shape[2], shape[0], shape[1]) if len(shape) == 4 else shape[::-1]
        if leaf in ("var", "scale"):
            state[name] = np.ones(shape, np.float32)
        elif leaf in ("mean", "bias"):
            state[name] = np.zeros(shape, np.float32)
        else:
            fan_in = int(np.prod(shape[1:]))
            state[name] = (rng.standard_normal(shape) * np.sqrt(2 / fan_in)).astype(np.float32)
    inception.save_npz(path, state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/r3gan_cifar10.py")
    parser.add_argument("--num", type=int, default=1000)
    parser.add_argument("--extrapolate", type=int, default=50_000)
    args = parser.parse_args()
    config = config_lib.with_seed(config_lib.load_config_file(args.config), 0)
    validate(config)
    with data_lib.shapes_only():
        experiment = build_experiment(config)
    state = experiment.init_state()
    params, g_state = experiment.generators(state)["ema"]
    key = jax.random.PRNGKey(1)

    with tempfile.TemporaryDirectory() as tmp:
        random_inception_npz(os.path.join(tmp, "inception.npz"))
        extractor = load_inception(os.path.join(tmp, "inception.npz"))

    warm = next(protocol_batches(experiment, params, g_state, config.eval.batch_size, key))
    extractor(warm)  # Compile both programs before timing.

    start = time.perf_counter()
    batches = [jax.block_until_ready(b) for b in protocol_batches(
        experiment, params, g_state, args.num, key)]
    generation = time.perf_counter() - start
    start = time.perf_counter()
    features = np.concatenate([extractor(b).features for b in batches])
    extraction = time.perf_counter() - start
    start = time.perf_counter()
    fake = metrics.FeatureStats(features.shape[-1]).update(features)
    accumulation = time.perf_counter() - start  # Mean and covariance: grows with the samples.
    real = metrics.FeatureStats(features.shape[-1]).update(
        np.random.default_rng(2).normal(size=features.shape).astype(np.float32))
    start = time.perf_counter()
    distance = metrics.frechet_distance_from_stats(fake, real)
    statistics = time.perf_counter() - start  # The float64 matrix square root: fixed.
    scale = args.extrapolate / args.num
    print(json.dumps({
        "config": args.config, "image_shape": list(experiment.dataset.example_shape),
        "samples_timed": args.num, "eval_batch_size": config.eval.batch_size,
        "generation_s": generation, "resize_and_features_s": extraction,
        "accumulate_statistics_s": accumulation, "frechet_distance_s": statistics,
        "fd": distance,
        f"generation_s_for_{args.extrapolate}": generation * scale,
        f"resize_and_features_s_for_{args.extrapolate}": extraction * scale,
        f"accumulate_statistics_s_for_{args.extrapolate}": accumulation * scale,
        "machine": machine_info()}, indent=1))


if __name__ == "__main__":
    main()
