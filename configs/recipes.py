"""Today's recipes as changes to any config, by name; config files take them after their own
argument (`configs/dcgan_mnist.py:fashion_mnist,10%,ada,lecam`, `configs/mog.py:ring,rpgan`).

    rpgan        the relativistic pairing loss with R1 + R2 (R3GAN's objective), gamma 0.1
    diffaugment  DiffAugment's color, translation and cutout on every image D sees
    ada          ADA's bgc pipeline, p adapted to E[sign D(x)] = 0.6
    apa          APA, its p adapted to the same target
    lecam        LeCam regularisation, weight 0.3 (Tseng et al.'s CIFAR setting), decay 0.99
    freezed      FreezeD: D's first parameter module frozen (fine-tuning with
                 train.init_from)
    N%           train on the first N% of the training split

Each sets the keys of its method only; override any of them as usual.
"""

from __future__ import annotations

from typing import Any

RECIPES: dict[str, dict[str, Any]] = {
    "rpgan": {"loss.name": "rpgan", "loss.r1_weight": 0.1, "loss.r2_weight": 0.1},
    "diffaugment": {"train.diff_augment": "color,translation,cutout"},
    "ada": {"ada.pipeline": "bgc", "ada.target": 0.6},
    "apa": {"apa.target": 0.6},
    "lecam": {"loss.lecam_weight": 0.3},
    "freezed": {"train.freeze_d": 1},
}


def split_argument(argument: str) -> tuple[str, list[str]]:
    """"fashion_mnist,10%,ada" -> ("fashion_mnist", ["10%", "ada"])."""
    first, *rest = [part.strip() for part in argument.split(",")]
    return first, [r for r in rest if r]


def apply(config: Any, names: list[str]) -> Any:
    """`config` with the named recipes applied, in order."""
    for name in names:
        if name.endswith("%"):
            percent = name[:-1]
            if not percent.isdigit() or not 0 < int(percent) <= 100:
                raise ValueError(f"a training subset is a whole percentage, got {name!r}")
            if "split" not in config.data:
                raise ValueError(f"{name!r}: dataset {config.data.name!r} has no split")
            config.data.split = f"{config.data.split}[:{int(percent)}%]"
            continue
        if name not in RECIPES:
            raise ValueError(f"unknown recipe {name!r}; known: {', '.join(RECIPES)}, N%")
        for key, value in RECIPES[name].items():
            node = config
            *sections, leaf = key.split(".")
            for section in sections:
                node = node[section]
            node[leaf] = value
    return config
