"""The throughput benchmark's report."""

import pytest

from gan_jax.benchmark import benchmark


def test_flops_per_step_do_not_depend_on_steps_per_call(make_config):
    reports = []
    for steps_per_call in (1, 10):
        config = make_config()
        config.train.steps_per_call = steps_per_call
        reports.append(benchmark(config, calls=2, repeats=1))
    one, fused = reports
    assert one["gflop_per_step"] > 0
    # XLA's cost analysis counts a scanned step once; the report must not divide by 10.
    assert fused["gflop_per_step"] == pytest.approx(one["gflop_per_step"], rel=0.05)
    assert one["parallel"] == "jit" and one["devices"] == 1
    assert one["generator_examples_per_sec"] == pytest.approx(
        one["steps_per_sec_median"] * config.train.batch_size)


def test_vectorised_seeds_count_every_seed(make_config):
    single = make_config()
    vectorised = make_config()
    vectorised.train.num_seeds = 4
    one = benchmark(single, calls=2, repeats=1)
    four = benchmark(vectorised, calls=2, repeats=1)
    assert four["num_seeds"] == 4
    assert four["seed_steps_per_sec_median"] == pytest.approx(4 * four["steps_per_sec_median"])
    # The compiled program trains all four seeds: four times the arithmetic of one.
    assert four["gflop_per_step"] == pytest.approx(4 * one["gflop_per_step"], rel=0.05)
