"""Throughput of vectorised seeds (train.num_seeds) on the ring, over batch sizes.

    python benchmarks/vmap_seeds.py [--seeds 1,8,32] [--batch_sizes 32,128,512] [--hidden_dim 256]

Prints a markdown table: median steps/s of the compiled program and the total seed-steps/s
(steps/s x K), and the speed-up over training the K seeds one after another.
"""

from __future__ import annotations

import argparse
import json

from configs import mog
from gan_jax.commands.benchmark import benchmark, machine_info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", default="1,8,32")
    parser.add_argument("--batch_sizes", default="32,128,512")
    parser.add_argument("--hidden_dim", type=int, default=256, help="G and D MLP width.")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    seeds = [int(k) for k in args.seeds.split(",")]
    rows = []
    width = args.hidden_dim
    for batch in [int(b) for b in args.batch_sizes.split(",")]:
        single = None
        for k in seeds:
            config = mog.get_config()
            config.train.batch_size = batch
            config.train.num_seeds = k
            config.model.generator.hidden_dim = args.hidden_dim
            config.model.discriminator.hidden_dim = args.hidden_dim
            # About 0.3 s of work per call whatever K and the batch size.
            config.train.steps_per_call = max(5, min(200, 40_000 * 256 // (k * batch * width)))
            result = benchmark(config, calls=2, repeats=args.repeats)
            total = result["seed_steps_per_sec_median"]
            single = total if k == 1 else single
            rows.append((batch, k, result["steps_per_sec_median"], total,
                         total / single if single else float("nan")))
    print(json.dumps(machine_info()))
    print("| batch | K | program steps/s | seed-steps/s | vs K runs in turn |")
    print("|---|---|---|---|---|")
    for batch, k, steps, total, speedup in rows:
        print(f"| {batch} | {k} | {steps:.1f} | {total:.0f} | {speedup:.2f}x |")


if __name__ == "__main__":
    main()
