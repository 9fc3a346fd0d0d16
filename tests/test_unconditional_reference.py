"""Unconditional runs keep their numbers: final parameters of a ring run and a DCGAN MNIST run
at fixed seeds, against fingerprints recorded before conditioning was added to the library.

On the platforms they were recorded on (same JAX version, backend, CPU vector width and XLA
optimisation level) the parameters must be bit-identical. Elsewhere float rounding may differ
in the last bits, so the per-part norms are compared with rtol 1e-4: a few train steps keep
last-bit rounding differences below 1e-6 relative, while any change to the key schedule, the
data order or a model changes them by far more than 1e-4.
"""

import json
import os

import numpy as np

from tests.helpers import (
    numerics_platform,
    state_fingerprint,
    train_steps,
    unconditional_reference_configs,
)

REFERENCE = os.path.join(os.path.dirname(__file__), "reference", "unconditional_checksums.json")


def _check(name: str, data_dir: str) -> None:
    with open(REFERENCE) as f:
        reference = json.load(f)
    config, steps = unconditional_reference_configs(data_dir)[name]
    expected = reference["runs"][name]
    assert steps == expected["steps"]
    got = state_fingerprint(train_steps(config, steps))
    for part, numbers in expected["summary"].items():
        scale = max(numbers["norm"], 1.0)
        np.testing.assert_allclose(got["summary"][part]["norm"], numbers["norm"], rtol=1e-4,
                                   err_msg=f"{name}: {part}")
        np.testing.assert_allclose(got["summary"][part]["sum"], numbers["sum"],
                                   atol=1e-4 * scale, err_msg=f"{name}: {part}")
    platform = numerics_platform()
    if platform == reference["platform"]:
        assert got["sha256"] == expected["sha256"], f"{name}: parameters changed"
    also = reference["also_recorded"]
    if platform == also["platform"]:  # The same code, compiled as the tests compile it.
        assert got["sha256"] == also["sha256"][name], f"{name}: parameters changed"


def test_unconditional_ring_run_is_unchanged():
    _check("ring", "")


def test_unconditional_dcgan_mnist_run_is_unchanged(mnist_data_dir):
    _check("dcgan_mnist", mnist_data_dir)
