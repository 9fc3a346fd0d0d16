"""Train-step throughput: steps/s after warm-up, median of repeats, with machine details."""

from __future__ import annotations

import dataclasses
import os
import platform
import statistics
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import config as config_lib
from gan_jax import data as data_lib
from gan_jax.training import parallel
from gan_jax.training import replicas as replicas_lib
from gan_jax.training.checks import validate


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    device = jax.devices()[0]
    return {
        "backend": jax.default_backend(),
        "device_kind": device.device_kind,
        "device_count": jax.device_count(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "python": platform.python_version(),
    }


def synthetic_data(experiment: Any, num_examples: int = 10_000) -> Any:
    """Random device data of the dataset's shapes (and labels), so timing needs no dataset
    on disk."""
    dataset = experiment.dataset
    key = jax.random.PRNGKey(0)
    if dataset.kind == "images":
        images = np.asarray(jax.random.randint(key, (num_examples, *dataset.stored_shape), 0,
                                               256, jnp.int32), np.uint8)
        labels = None
        if dataset.num_classes:  # Labelled data: random labels, so conditional steps run.
            labels = np.asarray(jax.random.randint(jax.random.fold_in(key, 1), (num_examples,),
                                                   0, dataset.stored_classes))
        dataset = dataclasses.replace(dataset, read=lambda: (images, labels))
    elif dataset.kind == "pairs":  # Few pairs: 286x286 facades would not fit 10,000 times.
        num = max(experiment.config.train.batch_size, 64)
        side = (num, dataset.load_size, dataset.load_size)
        inputs, targets = (np.asarray(jax.random.randint(jax.random.fold_in(key, i),
                                                         (*side, channels), 0, 256,
                                                         jnp.int32), np.uint8)
                           for i, channels in enumerate((dataset.input_channels,
                                                         dataset.target_channels)))
        dataset = dataclasses.replace(dataset, read=lambda: (inputs, targets))
    return dataset.device_data(key, experiment.config.train.batch_size)


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    """The machine's measured float32 matmul rate (median of repeats), a practical peak."""
    a = jax.random.normal(jax.random.PRNGKey(0), (size, size), jnp.float32)
    matmul = jax.jit(lambda a: a @ a)
    matmul(a).block_until_ready()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a).block_until_ready()
        times.append(time.perf_counter() - start)
    return 2 * size**3 / statistics.median(times) / 1e9


def benchmark(config: config_lib.ConfigDict, calls: int = 10, repeats: int = 5) -> dict[str, Any]:
    """Times `repeats` blocks of `calls` compiled calls of `train.steps_per_call` steps each,
    on synthetic data of the config's shapes. FLOPs come from XLA's cost analysis. A
    vectorised run is also timed as its first replica alone: `vectorised_speedup` is the
    replica steps a second against the same trials run one after another."""
    validate(config)
    config = config_lib.with_seed(config, 0)
    with data_lib.shapes_only():  # Random data: the dataset need not be on this machine.
        replicas = replicas_lib.build_replicas(config)
    experiment = replicas[0]
    num_seeds = len(replicas)
    steps_per_call = config.train.steps_per_call
    data, data_axes = synthetic_data(experiment), None
    plan = experiment.plan
    if num_seeds > 1:  # Vectorised seeds: one shuffle key each.
        data, data_axes = replicas_lib.with_replica_keys(
            data, [jax.random.PRNGKey(k) for k in range(num_seeds)])
    multi_step, state, data, _ = parallel.compile_run(
        replicas_lib.run_step(replicas, data_axes), plan, replicas_lib.init_states(replicas), data)
    # One step, compiled on its own: XLA's cost analysis counts a loop body once, not once per
    # iteration. Under pmap the analysis is of one device's program.
    cost = multi_step.lower(state, data, 1).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    flops_per_step = float(cost.get("flops", 0.0)) * plan.num_replicas if cost else 0.0
    for _ in range(2):  # Compile, then one more call to settle allocations and caches.
        state, metrics = multi_step(state, data, steps_per_call)
    jax.block_until_ready(state)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            state, metrics = multi_step(state, data, steps_per_call)
        jax.block_until_ready(state)
        rates.append(calls * steps_per_call / (time.perf_counter() - start))
    steps_per_sec = statistics.median(rates)
    batch = config.train.batch_size
    achieved = flops_per_step * steps_per_sec / 1e9
    peak = matmul_gflops()
    versus_alone = {}
    if num_seeds > 1:  # The same trials one after another: each replica's program alone.
        alone = benchmark(replicas[0].config, calls, repeats)  # A run of its own config.
        versus_alone = {
            "alone_steps_per_sec_median": alone["steps_per_sec_median"],
            # Replica steps a second: vectorised, against the trials run one after another.
            "vectorised_speedup": steps_per_sec * num_seeds / alone["steps_per_sec_median"],
        }
    return {
        "data": config.data.name,
        "example_shape": list(experiment.dataset.example_shape),
        "batch_size": batch,
        "n_disc": config.train.n_disc,
        "steps_per_call": steps_per_call,
        "step_time_median_s": 1.0 / steps_per_sec,
        "steps_per_sec_median": steps_per_sec,
        # Vectorised replicas (seeds, values); each makes steps_per_sec steps a second.
        "num_seeds": num_seeds,
        "num_replicas": num_seeds,
        "seed_steps_per_sec_median": steps_per_sec * num_seeds,
        "replica_steps_per_sec_median": steps_per_sec * num_seeds,
        **versus_alone,
        "steps_per_sec_repeats": rates,
        "parallel": plan.mode,
        "devices": plan.num_replicas,
        "generator_examples_per_sec": steps_per_sec * batch * num_seeds,
        "generator_examples_per_sec_per_device": (steps_per_sec * batch * num_seeds
                                                  / plan.num_replicas),
        "gflop_per_step": flops_per_step / 1e9,
        "achieved_gflops": achieved,
        "matmul_gflops": peak,
        "fraction_of_matmul_rate": achieved / peak if peak else None,
        "machine": machine_info(),
    }


def write_jpeg_folder(root: str, num: int, size: int = 64, chunk: int = 1000) -> str:
    """root/train/all/<i>.jpg: `num` random RGB JPEGs (drawn from a fixed key), written once;
    returns root. Noise compresses worse than photographs, so decoding them is a hard case."""
    from PIL import Image

    folder = os.path.join(root, "train", "all")
    os.makedirs(folder, exist_ok=True)
    if len(os.listdir(folder)) == num:
        return root
    for start in range(0, num, chunk):
        count = min(chunk, num - start)
        key = jax.random.fold_in(jax.random.PRNGKey(0), start)
        pixels = np.asarray(jax.random.randint(key, (count, size, size, 3), 0, 256), np.uint8)
        for i, image in enumerate(pixels):
            Image.fromarray(image).save(os.path.join(folder, f"{start + i:06d}.jpg"), quality=90)
    return root


def input_rate(folder: str, image_shape: tuple[int, ...], batch_size: int, batches: int = 100,
               repeats: int = 3) -> dict[str, Any]:
    """Images/s of the streaming input pipeline (read, decode, resize, batch) on the image
    folder `folder`, at `image_shape` and `batch_size`: median of `repeats` blocks of
    `batches`."""
    from ml_collections import ConfigDict

    from gan_jax.data import streaming

    dataset = data_lib.build_dataset(ConfigDict(dict(
        name="image_folder", path=folder, split="train", image_size=image_shape[0],
        image_width=image_shape[1], channels=image_shape[-1], crop="center")))
    feeder = streaming.BatchFeeder(dataset, jax.random.PRNGKey(0), batch_size, 0)
    feeder.take(batches)  # Start the threads and fill the prefetch buffer.
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        feeder.take(batches)
        rates.append(batches * batch_size / (time.perf_counter() - start))
    return {"input_images": dataset.num_examples,
            "input_images_per_sec_median": statistics.median(rates),
            "input_images_per_sec_repeats": rates}
