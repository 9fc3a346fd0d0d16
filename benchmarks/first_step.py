"""Time to first step: how long `gan-train` takes from start to the end of its first compiled
call (reading data, initialising, compiling), with an empty persistent compilation cache
(cold) and with the cache the cold run filled (warm). Each run is a fresh process and a fresh
workdir; the median of `--repeats` is printed.

    python benchmarks/first_step.py [--repeats 3] [--configs ring,dcgan64]

DCGAN-64 trains on a folder of random 64x64 JPEGs written here, so no dataset is needed.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import jax
import numpy as np
from PIL import Image

FIRST = re.compile(r"first steps? \((\d+(?:-\d+)?)\) done ([0-9.]+) s")


def write_folder(root: str, num: int = 128, size: int = 64) -> str:
    pixels = np.asarray(jax.random.randint(jax.random.PRNGKey(0), (num, size, size, 3), 0, 256),
                        np.uint8)
    os.makedirs(os.path.join(root, "train", "all"), exist_ok=True)
    for i, image in enumerate(pixels):
        Image.fromarray(image).save(os.path.join(root, "train", "all", f"{i}.jpg"))
    return root


def run(args: list[str], cache_dir: str, workdir: str) -> tuple[float, float, str]:
    env = {**os.environ, "JAX_COMPILATION_CACHE_DIR": cache_dir}
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", "from gan_jax.cli import train_main; "
                          "train_main()", "--workdir", workdir, *args], env=env,
                         capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    match = FIRST.search(out.stdout + out.stderr)
    return float(match.group(2)), wall, f"steps {match.group(1)}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--configs", default="ring,dcgan64")
    flags = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        common = ["--config.train.progress_bar=False"]
        settings = {
            "ring": ["--config", "configs/mog.py", "--config.train.num_steps=100"],
            "dcgan64": ["--config", "configs/dcgan64.py:folder",
                        f"--config.data.path={write_folder(os.path.join(tmp, 'faces'))}",
                        "--config.train.num_steps=1", "--config.train.sample_every=0"],
        }
        for name in flags.configs.split(","):
            times = {"cold": [], "warm": []}
            for r in range(flags.repeats):
                cache = os.path.join(tmp, f"cache_{name}_{r}")
                for kind in ("cold", "warm"):
                    first, wall, steps = run(settings[name] + common, cache,
                                             os.path.join(tmp, f"{name}_{r}_{kind}"))
                    times[kind].append((first, wall))
            for kind, values in times.items():
                first = statistics.median(v[0] for v in values)
                wall = statistics.median(v[1] for v in values)
                print(f"{name} {kind}: first call ({steps}) done {first:.1f} s after the run "
                      f"started; whole command {wall:.1f} s (median of {flags.repeats}: "
                      f"{', '.join(f'{v[0]:.1f}' for v in values)})", flush=True)


if __name__ == "__main__":
    main()
