"""Where a train step's time goes: every layer of G and D timed on its own.

Each layer (dense, convolution, transposed convolution, normalisation) is captured with the
inputs it receives in a training-mode forward pass of its model at the config's batch size,
then jitted alone: its forward pass, and its forward plus backward pass (the gradients of its
parameters and of its input). FLOPs come from XLA's cost analysis of those programs.

A step runs G forward twice and backward once (the D update's fakes, then G's own update),
and D forward three times and backward three times (real and fake batches in D's update, with
parameter gradients; the fakes in G's update, with input gradients only). `step_share` is a
layer's estimated time in one step, G: fwd + fwd_bwd, D: 3 fwd_bwd, over the measured step
time. It slightly overstates D's share, since G's update needs no D parameter gradients.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from flax import linen as nn

from gan_jax import config as config_lib
from gan_jax import data as data_lib
from gan_jax.models.conv import Conv2D, MatmulConv2D, SubPixelConvTranspose
from gan_jax.models.r3gan import Convolution as R3GANConvolution
from gan_jax.training import replicas as replicas_lib

# Modules timed as layers; anything else (activations, reshapes, losses, the optimiser)
# counts towards the step's remainder.
LAYER_TYPES = (nn.Dense, nn.Conv, nn.ConvTranspose, nn.BatchNorm, nn.LayerNorm, nn.GroupNorm,
               Conv2D, MatmulConv2D, SubPixelConvTranspose, R3GANConvolution)


def _median_seconds(fn: Callable[[], Any], repeats: int, calls: int) -> float:
    jax.block_until_ready(fn())  # Compile and warm up.
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            out = fn()
        jax.block_until_ready(out)
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def _flops(jitted: Any, *args: Any) -> float:
    cost = jitted.lower(*args).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    return float(cost.get("flops", 0.0)) if cost else 0.0


def capture_layers(module: nn.Module, variables: Any, *args: Any,
                   **kwargs: Any) -> list[tuple[str, nn.Module, Any, tuple, dict]]:
    """(path, unbound layer, its variables, its args, its kwargs) for every layer call in one
    forward pass of `module` (outermost first; a layer inside a layer is not repeated)."""
    calls = []
    depth = [0]

    def interceptor(next_fun, call_args, call_kwargs, context):
        layer = context.module
        if context.method_name != "__call__" or not isinstance(layer, LAYER_TYPES):
            return next_fun(*call_args, **call_kwargs)
        if depth[0] == 0:
            calls.append(("/".join(layer.path), layer.clone(parent=None),
                          dict(layer.variables), call_args, dict(call_kwargs)))
        depth[0] += 1
        try:
            return next_fun(*call_args, **call_kwargs)
        finally:
            depth[0] -= 1

    with nn.intercept_methods(interceptor):
        module.apply(variables, *args, mutable=True, **kwargs)
    return calls


def time_layer(layer: nn.Module, variables: Any, args: tuple, kwargs: dict, repeats: int,
               calls: int) -> dict[str, float]:
    """Median seconds and XLA FLOPs of one layer's forward and forward+backward passes."""
    params = variables.get("params", {})
    others = {k: v for k, v in variables.items() if k != "params"}
    x, rest = args[0], args[1:]

    def forward(params, x):
        out, _ = layer.apply({"params": params, **others}, x, *rest, mutable=True, **kwargs)
        return out

    fwd = jax.jit(forward)
    cotangent = jax.random.normal(jax.random.PRNGKey(1), jax.eval_shape(forward, params, x).shape)

    @jax.jit
    def fwd_bwd(params, x, cotangent):
        out, vjp = jax.vjp(forward, params, x)
        return out, vjp(cotangent)

    return {
        "fwd_s": _median_seconds(lambda: fwd(params, x), repeats, calls),
        "fwd_bwd_s": _median_seconds(lambda: fwd_bwd(params, x, cotangent), repeats, calls),
        "fwd_gflop": _flops(fwd, params, x) / 1e9,
        "fwd_bwd_gflop": _flops(fwd_bwd, params, x, cotangent) / 1e9,
    }


def per_layer(config: config_lib.ConfigDict, step_time_s: float, matmul_gflops: float,
              repeats: int = 5, calls: int = 3) -> list[dict[str, Any]]:
    """One row per layer of G and D: times, GFLOP/s, fraction of the matmul rate and the
    estimated share of a step of `step_time_s` seconds."""
    with data_lib.shapes_only():
        experiment = replicas_lib.build_replicas(config_lib.with_seed(config, 0))[0]
    if experiment.translation:
        raise config_lib.ConfigError("per-layer timing takes noise-to-image GANs; "
                                     f"{config.data.name!r} is an image-to-image dataset")
    state = experiment.init_state()
    batch = config.train.batch_size
    z = experiment.latents(jax.random.PRNGKey(2), batch)
    g_variables = {"params": state.g_params, **state.g_state}
    labels = experiment.balanced_labels(batch)
    label_args = () if labels is None else (jnp.asarray(labels),)
    fake, _ = experiment.generator.apply(g_variables, z, *label_args, train=True,
                                         mutable=True)
    d_variables = {"params": state.d_params, **state.d_state}
    rows = []
    for player, module, variables, inputs in (
            ("G", experiment.generator, g_variables, z),
            ("D", experiment.discriminator, d_variables, fake)):
        for path, layer, layer_variables, args, kwargs in capture_layers(
                module, variables, inputs, *label_args, train=True):
            timing = time_layer(layer, layer_variables, args, kwargs, repeats, calls)
            per_step = (timing["fwd_s"] + timing["fwd_bwd_s"] if player == "G"
                        else 3 * timing["fwd_bwd_s"])
            rate = timing["fwd_bwd_gflop"] / timing["fwd_bwd_s"]
            rows.append({
                "player": player,
                "layer": path,
                "type": type(layer).__name__,
                "input_shape": list(args[0].shape),
                **timing,
                "fwd_bwd_gflops": rate,
                "fraction_of_matmul_rate": rate / matmul_gflops if matmul_gflops else None,
                "step_share": per_step / step_time_s if step_time_s else None,
            })
    return rows


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The rows as the table in docs/benchmarks.md."""
    lines = ["| player | layer | type | input | fwd ms | fwd+bwd ms | GFLOP/s | of matmul "
             "| share of step |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['player']} | {r['layer']} | {r['type']} | "
            f"{'×'.join(map(str, r['input_shape']))} | {1e3 * r['fwd_s']:.1f} | "
            f"{1e3 * r['fwd_bwd_s']:.1f} | {r['fwd_bwd_gflops']:.1f} | "
            f"{100 * r['fraction_of_matmul_rate']:.0f}% | {100 * r['step_share']:.1f}% |")
    total = sum(r["step_share"] for r in rows)
    lines.append(f"| | all layers | | | | | | | {100 * total:.1f}% |")
    return "\n".join(lines)
