"""The study's equal wall-clock budget: each family trains for as many generator steps as fit
in BUDGET_SECONDS of its compiled step alone on the study's machine, from the median step
times `gan-benchmark` measured there side by side (see README.md)."""

BUDGET_SECONDS = 240
SEEDS = [0, 1, 2]
# Median s per generator step over 5 repeats of 3 calls, alone on 2 cores of an AMD EPYC
# (AVX2), JAX 0.10.2, measured side by side:
#   gan-benchmark --config experiments/style_fashion/sweep_dcgan.py --calls 3 --repeats 5
#   gan-benchmark --config experiments/style_fashion/sweep_stylegan.py --calls 3 --repeats 5 \
#       [--config.model.generator.style=adain]
SECONDS_PER_STEP = {"stylegan_adain": 0.431, "stylegan_modulation": 0.425, "dcgan": 0.215}
EVAL_METRICS = "fd,kid,pr"
EVAL_SAMPLES = 5_000


def steps(family: str) -> int:
    return round(BUDGET_SECONDS / SECONDS_PER_STEP[family])
