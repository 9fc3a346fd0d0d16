"""The floor under `gan-benchmark` for the small 2D ring: the barest JAX step, and its matmuls.

Prints two numbers for this machine and XLA backend:
- the time of one batch x hidden by hidden x hidden matmul (plus tanh) inside a compiled loop,
  the shape the ring MLPs' hidden layers run;
- steps/s of a hand-written ring GAN step with nothing but what it must do: the same MLPs
  (ReLU in G, LeakyReLU(0.2) in D, latent 2), one D and one G update with Adam (beta1 0.5,
  one flattened update per player), the non-saturating BCE losses and points drawn from the
  8-Gaussian ring on the device; no EMA generator, gradient norms or metrics. 100 steps are
  fused in one call, as gan_jax does.

Compare its steps/s with `gan-benchmark`'s for the same sizes (docs/benchmarks.md):

    python benchmarks/bare_ring_step.py --batch 64 --hidden 128 --depth 2
"""

import argparse
import statistics
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax


class MLP(nn.Module):
    hidden: int
    depth: int
    outputs: int
    leaky: bool

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for _ in range(self.depth):
            x = nn.Dense(self.hidden)(x)
            x = nn.leaky_relu(x, 0.2) if self.leaky else nn.relu(x)
        return nn.Dense(self.outputs)(x)


def timed(fn, *args, calls: int, repeats: int = 5) -> float:
    """Median seconds per call of `fn(*args)` (args threaded through when it returns them)."""
    out = fn(*args)
    jax.block_until_ready(out)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            out = fn(*args)
        jax.block_until_ready(out)
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def matmul_time(batch: int, hidden: int, chain: int = 1000) -> float:
    x = jax.random.normal(jax.random.PRNGKey(0), (batch, hidden))
    w = jax.random.normal(jax.random.PRNGKey(1), (hidden, hidden)) / hidden**0.5

    @jax.jit
    def chained(x):
        return jax.lax.scan(lambda x, _: (jnp.tanh(x @ w), None), x, None, length=chain)[0]

    return timed(chained, x, calls=1, repeats=7) / chain


def ring_steps_per_sec(batch: int, hidden: int, depth: int, steps_per_call: int = 100) -> float:
    g, d = MLP(hidden, depth, 2, leaky=False), MLP(hidden, depth, 1, leaky=True)
    key = jax.random.PRNGKey(0)
    g_params = g.init(key, jnp.zeros((1, 2)))
    d_params = d.init(jax.random.fold_in(key, 1), jnp.zeros((1, 2)))
    tx = optax.flatten(optax.adam(1e-4, b1=0.5))

    def real_points(key):
        mode_key, noise_key = jax.random.split(key)
        angle = jax.random.randint(mode_key, (batch,), 0, 8) * (2 * jnp.pi / 8)
        centres = 2.0 * jnp.stack([jnp.cos(angle), jnp.sin(angle)], axis=1)
        return centres + 0.02 * jax.random.normal(noise_key, (batch, 2))

    def step(carry, index):
        g_params, d_params, g_opt, d_opt, key = carry
        real_key, d_z_key, g_z_key = jax.random.split(jax.random.fold_in(key, index), 3)
        real, z = real_points(real_key), jax.random.normal(d_z_key, (batch, 2))

        def d_loss(params):
            fake = g.apply(g_params, z)
            return (optax.sigmoid_binary_cross_entropy(d.apply(params, real), 1.0).mean()
                    + optax.sigmoid_binary_cross_entropy(d.apply(params, fake), 0.0).mean())

        grads = jax.grad(d_loss)(d_params)
        updates, d_opt = tx.update(grads, d_opt, d_params)
        d_params = optax.apply_updates(d_params, updates)
        z = jax.random.normal(g_z_key, (batch, 2))

        def g_loss(params):
            logits = d.apply(d_params, g.apply(params, z))
            return optax.sigmoid_binary_cross_entropy(logits, 1.0).mean()

        grads = jax.grad(g_loss)(g_params)
        updates, g_opt = tx.update(grads, g_opt, g_params)
        g_params = optax.apply_updates(g_params, updates)
        return (g_params, d_params, g_opt, d_opt, key), None

    @jax.jit
    def call(carry):
        return jax.lax.scan(step, carry, jnp.arange(steps_per_call))[0]

    carry = [(g_params, d_params, tx.init(g_params), tx.init(d_params), key)]

    def advance():
        carry[0] = call(carry[0])
        return carry[0]

    return steps_per_call / timed(advance, calls=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--depth", type=int, default=2)
    args = parser.parse_args()
    seconds = matmul_time(args.batch, args.hidden)
    flops = 2 * args.batch * args.hidden**2
    print(f"jax {jax.__version__} {jax.default_backend()}: {args.batch}x{args.hidden} by "
          f"{args.hidden}x{args.hidden} matmul + tanh: {seconds * 1e6:.1f} us "
          f"({flops / seconds / 1e9:.1f} GFLOP/s)")
    rate = ring_steps_per_sec(args.batch, args.hidden, args.depth)
    print(f"bare ring step, batch {args.batch}, {args.depth}x{args.hidden}: {rate:.0f} steps/s")


if __name__ == "__main__":
    main()
