"""Per-layer timing: every layer of G and D, with its shapes and FLOPs."""

import pytest

from configs import dcgan64
from gan_jax.commands import layer_benchmark


def test_every_dcgan_layer_is_timed_with_its_input_shape_and_flops():
    # CelebA is not on this machine: the shapes come from its TFDS builder alone.
    config = dcgan64.get_config()
    config.data.image_size = 16
    config.train.batch_size = 4
    config.model.generator.width = config.model.discriminator.width = 4
    rows = layer_benchmark.per_layer(config, step_time_s=2.0, matmul_gflops=100.0, repeats=1,
                                     calls=1)
    by_name = {(r["player"], r["layer"]): r for r in rows}
    assert [(r["player"], r["layer"], r["type"]) for r in rows] == [
        ("G", "project", "Dense"), ("G", "bn0", "BatchNorm"),
        ("G", "up1", "SubPixelConvTranspose"), ("G", "bn1", "BatchNorm"),
        ("G", "up2", "SubPixelConvTranspose"),
        ("D", "conv0", "Conv2D"), ("D", "conv1", "Conv2D"), ("D", "bn1", "BatchNorm"),
        ("D", "logit", "Dense")]
    assert by_name["G", "project"]["input_shape"] == [4, 100]
    assert by_name["G", "up2"]["input_shape"] == [4, 8, 8, 4]
    assert by_name["D", "conv0"]["input_shape"] == [4, 16, 16, 3]
    # D's conv1: 4x4 stride-2, padding 1, from 8x8x4 to 4x4x8. Along each axis the 4 outputs
    # read 3, 4, 4 and 3 taps inside the image (XLA counts no padding): 14 * 14 (output, tap)
    # pairs, each 4 input x 8 output channels, for 4 examples, 2 FLOPs per multiply-add.
    conv1 = by_name["D", "conv1"]
    assert conv1["fwd_gflop"] * 1e9 == pytest.approx(2 * 4 * 14 * 14 * 4 * 8, rel=0.01)
    # Backward adds the input and kernel gradients, each about the forward's arithmetic.
    assert 2.5 < conv1["fwd_bwd_gflop"] / conv1["fwd_gflop"] < 3.5
    for r in rows:
        assert r["fwd_s"] > 0 and r["fwd_bwd_s"] > 0
        assert r["fraction_of_matmul_rate"] == pytest.approx(r["fwd_bwd_gflops"] / 100.0)
    # A step reads D three times with gradients, and runs G forward twice, backward once.
    assert conv1["step_share"] == pytest.approx(3 * conv1["fwd_bwd_s"] / 2.0)
    up1 = by_name["G", "up1"]
    assert up1["step_share"] == pytest.approx((up1["fwd_s"] + up1["fwd_bwd_s"]) / 2.0)
    table = layer_benchmark.markdown_table(rows)
    assert table.count("\n") == len(rows) + 2 and "| D | conv1 | Conv2D | 4×8×8×4 |" in table
