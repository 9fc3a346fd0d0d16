"""The backbone study's equal wall-clock budget: each family and variant trains for as many
generator steps as fit in BUDGET_SECONDS of its compiled train step alone on the study's
machine, from the median step times `gan-benchmark` measured there side by side (README.md).
"""

BUDGET_SECONDS = 90
SEEDS = [0, 1, 2]
CONDITIONS = ("none", "class")
# Median s per generator step (its n_disc D updates included) over 3 repeats of 3 calls, alone
# on 2 cores of an AMD EPYC, JAX 0.10.2, measured side by side with measure.sh.
SECONDS_PER_STEP = {
    ("dcgan", "none"): 0.0501, ("dcgan", "class"): 0.0663,
    ("sngan", "none"): 0.4323, ("sngan", "class"): 0.4536,
    ("biggan", "none"): 0.5585, ("biggan", "class"): 0.5848,
    ("stylegan2", "none"): 0.2351, ("stylegan2", "class"): 0.2410,
    ("r3gan", "none"): 0.5817, ("r3gan", "class"): 0.5491,
}
EVAL_METRICS = "fd,kid,pr"
EVAL_SAMPLES = 5_000


def steps(family: str, condition: str) -> int:
    return round(BUDGET_SECONDS / SECONDS_PER_STEP[family, condition])


def study(config):
    """The evaluation and cadence every run of the study shares."""
    config.eval.metrics = EVAL_METRICS
    config.eval.num_samples = EVAL_SAMPLES
    config.train.sample_every = 0  # Grids at the end.
    config.train.log_every = 100
    return config


def variants(family: str) -> list[dict]:
    """The unconditional and class-conditional trials of a family, each at its budget."""
    return [{"model.condition": condition, "train.num_steps": steps(family, condition),
             "train.checkpoint_every": steps(family, condition)}
            for condition in CONDITIONS]
