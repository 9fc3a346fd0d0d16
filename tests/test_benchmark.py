"""The throughput benchmark's report."""

import pytest

from gan_jax.benchmark import benchmark


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
