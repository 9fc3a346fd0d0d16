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
