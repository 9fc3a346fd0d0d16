"""The PyTorch reference for `gan-benchmark --config configs/dcgan64.py`.

The DCGAN of pytorch/examples (nz 100, ngf = ndf = 64, 64x64x3, BCE losses, Adam 2e-4,
beta1 0.5) and its train step: one D update on a real and a fake batch, then one G update
with the non-saturating loss, on random data. Eager mode, default threads. Prints the median
step time over repeats. Needs `pip install torch` (not a gan_jax dependency).

    python benchmarks/pytorch_dcgan64.py [--batch 64] [--steps 5] [--repeats 5]
"""

import argparse
import statistics
import time

import torch
from torch import nn


def generator(nz: int = 100, ngf: int = 64, nc: int = 3) -> nn.Module:
    return nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2),
        nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
    )


def discriminator(ndf: int = 64, nc: int = 3) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8),
        nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Flatten(),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    net_g, net_d = generator(), discriminator()
    opt_g = torch.optim.Adam(net_g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(net_d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    real = torch.rand(args.batch, 3, 64, 64) * 2 - 1
    ones, zeros = torch.ones(args.batch, 1), torch.zeros(args.batch, 1)

    def step() -> None:
        net_d.zero_grad()
        fake = net_g(torch.randn(args.batch, 100, 1, 1))
        loss_d = bce(net_d(real), ones) + bce(net_d(fake.detach()), zeros)
        loss_d.backward()
        opt_d.step()
        net_g.zero_grad()
        loss_g = bce(net_d(fake), ones)
        loss_g.backward()
        opt_g.step()

    step()
    step()
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        times.append((time.perf_counter() - start) / args.steps)
    median = statistics.median(times)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}: "
          f"median {median:.3f} s/step, {args.batch / median:.1f} images/s "
          f"(repeats: {', '.join(f'{t:.3f}' for t in times)})")


if __name__ == "__main__":
    main()
