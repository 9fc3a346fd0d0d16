"""The throughput benchmark's report."""

import os

import pytest

from gan_jax.commands.benchmark import benchmark


def test_flops_per_step_do_not_depend_on_steps_per_call(make_config):
    reports = []
    for steps_per_call, num_seeds in ((1, 1), (10, 1), (10, 4)):
        config = make_config()
        config.train.steps_per_call = steps_per_call
        config.train.num_seeds = num_seeds
        reports.append(benchmark(config, calls=2, repeats=1))
    one, fused, four_seeds = reports
    assert one["gflop_per_step"] > 0
    # XLA's cost analysis counts a scanned step once; the report must not divide by 10.
    assert fused["gflop_per_step"] == pytest.approx(one["gflop_per_step"], rel=0.05)
    assert one["parallel"] == "jit" and one["devices"] == 1
    assert one["generator_examples_per_sec"] == pytest.approx(
        one["steps_per_sec_median"] * config.train.batch_size)

    # Vectorised seeds: the compiled program trains all four, four times the arithmetic.
    assert four_seeds["num_seeds"] == 4
    assert four_seeds["seed_steps_per_sec_median"] == pytest.approx(
        4 * four_seeds["steps_per_sec_median"])
    assert four_seeds["gflop_per_step"] == pytest.approx(4 * one["gflop_per_step"], rel=0.05)
    # Against the same trials one after another: one replica alone, timed in the same call.
    assert four_seeds["vectorised_speedup"] == pytest.approx(
        4 * four_seeds["steps_per_sec_median"] / four_seeds["alone_steps_per_sec_median"])
    assert four_seeds["alone_steps_per_sec_median"] > 0 and "vectorised_speedup" not in fused


def test_input_rate_streams_the_folder_of_jpegs_it_writes(tmp_path):
    from gan_jax.commands.benchmark import input_rate, write_jpeg_folder

    folder = write_jpeg_folder(str(tmp_path), 40, size=8, chunk=16)
    assert sorted(os.listdir(os.path.join(folder, "train", "all")))[:2] == [
        "000000.jpg", "000001.jpg"]
    assert len(os.listdir(os.path.join(folder, "train", "all"))) == 40
    report = input_rate(folder, (8, 8, 3), batch_size=8, batches=6, repeats=2)
    assert report["input_images"] == 40
    assert len(report["input_images_per_sec_repeats"]) == 2
    assert report["input_images_per_sec_median"] > 0
