"""The PyTorch reference for `gan-benchmark --config configs/mog.py`.

The same 2D-ring GAN step: MLP players (`--depth` hidden layers of `--hidden` units, ReLU in
G, LeakyReLU(0.2) in D, latent 2), Adam (beta1 0.5) for each, the non-saturating BCE losses,
real points drawn from the 8-Gaussian ring on the device every step. One step = one D update
on a real and a fake batch, then one G update. Eager mode, default threads. Prints the median
steps/s over repeats. Needs `pip install torch` (not a gan_jax dependency).

    python benchmarks/pytorch_ring.py --batch 512 --hidden 256 --depth 3   # configs/mog.py
    python benchmarks/pytorch_ring.py --batch 64 --hidden 128 --depth 2
"""

import argparse
import math
import statistics
import time

import torch
from torch import nn


def mlp(inputs: int, hidden: int, depth: int, outputs: int, activation: nn.Module) -> nn.Module:
    layers, width = [], inputs
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), activation]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, outputs))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    net_g = mlp(2, args.hidden, args.depth, 2, nn.ReLU())
    net_d = mlp(2, args.hidden, args.depth, 1, nn.LeakyReLU(0.2))
    opt_g = torch.optim.Adam(net_g.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(net_d.parameters(), lr=1e-3, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    angles = torch.arange(8) * (2 * math.pi / 8)
    centres = torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    ones, zeros = torch.ones(args.batch, 1), torch.zeros(args.batch, 1)

    def step() -> None:
        modes = torch.randint(0, 8, (args.batch,))
        real = centres[modes] + 0.01 * torch.randn(args.batch, 2)
        net_d.zero_grad()
        fake = net_g(torch.randn(args.batch, 2))
        loss_d = bce(net_d(real), ones) + bce(net_d(fake.detach()), zeros)
        loss_d.backward()
        opt_d.step()
        net_g.zero_grad()
        loss_g = bce(net_d(fake), ones)
        loss_g.backward()
        opt_g.step()

    for _ in range(10):
        step()
    rates = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        rates.append(args.steps / (time.perf_counter() - start))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, "
          f"{args.depth}x{args.hidden}: median {statistics.median(rates):.1f} steps/s "
          f"(repeats: {', '.join(f'{r:.1f}' for r in rates)})")


if __name__ == "__main__":
    main()
