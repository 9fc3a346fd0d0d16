"""`train.vectorise`: which scalar hyperparameters vary across a vectorised run's replicas.

    train.vectorise = "loss.r1_weight=0.1,1,10 optim.d.lr=1e-4,2e-4"

asks for every combination of the listed values (the last key varies fastest), each times the
run's seeds (`seed`, ..., `seed + train.num_seeds - 1`, fastest of all): here 3 x 2 x K
replicas, trained as one compiled program (`training.replicas`). `seed=0,4,9` lists seeds
explicitly. Keys joined by `+` take each value together:
`loss.r1_weight+loss.r2_weight=0.1,1` is R3GAN's gamma for R1 and R2 alike (2 replicas, not
4). Replica i is the run of its own config: the base config with its values set
(`replica_configs`), checked like any config, so a value out of range is refused here.

Only scalars the train step reads as numbers can vary inside one program (`VECTORISABLE`);
anything that changes the program (a width, a loss name, an interval) is refused, with the
advice to sweep it with gan-sweep instead.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from gan_jax import config as config_lib
from gan_jax.config import ConfigError
from gan_jax.config.naming import overrides_name
from gan_jax.training import objective
from gan_jax.training.hyperparameters import lookup

SEED = "seed"
# Targets whose 0 means "p is fixed" rather than a value: all zero or all positive.
STRUCTURAL_ZERO = ("ada.target", "apa.target")


def is_vectorised(config: Any) -> bool:
    """Whether a run trains several replicas as one program (seeds or values)."""
    return config.train.num_seeds > 1 or bool(config.train.vectorise)


def vectorisable_keys() -> tuple[str, ...]:
    """The config keys that may vary across the replicas of one compiled program."""
    penalties = tuple(f"loss.{row.weight_key}" for row in objective.PENALTIES)
    optimizers = tuple(f"optim.{player}.{leaf}" for player in ("g", "d")
                       for leaf in ("lr", "b1", "b2", "eps"))
    return (SEED, *penalties, "loss.class_weight", "loss.l1_weight", "loss.gan_weight",
            *optimizers, "train.ema_decay", "ada.p", "ada.target", "apa.p", "apa.target")


def parse(text: str, config: Any) -> list[tuple[str, list[Any]]]:
    """[(key, values)] of a `train.vectorise` string, in its order (tied keys share their
    values list); ConfigError naming the culprit for an unknown or non-vectorisable key, a
    repeated key, or a value that is not a number."""
    return [(key, values) for keys, values in parse_groups(text, config) for key in keys]


def parse_groups(text: str, config: Any) -> list[tuple[tuple[str, ...], list[Any]]]:
    """[(tied keys, values)] of a `train.vectorise` string (see `parse`)."""
    entries: list[tuple[str, list[Any]]] = []
    groups: list[tuple[tuple[str, ...], list[Any]]] = []
    for item in re.split(r"[\s;]+", text.strip()) if text.strip() else []:
        spec, sep, listed = item.partition("=")
        if not sep or not listed:
            raise ConfigError(f"train.vectorise: {item!r} is not key=value,value,... "
                              "(e.g. 'loss.r1_weight=0.1,1,10')")
        keys = tuple(spec.split("+"))
        for key in keys:
            entries.append((key, _values(key, listed, config, entries)))
        groups.append((keys, entries[-1][1]))
    return groups


def _values(key: str, listed: str, config: Any, entries: list) -> list[Any]:
    """The checked values of one key of `train.vectorise`."""
    known, allowed = list(config_lib.flatten(config)), vectorisable_keys()
    if key not in known and key != SEED:
        raise ConfigError(config_lib.unknown_key_message(
            key, known, "train.vectorise: unknown config key"))
    if key not in allowed:
        raise ConfigError(
            f"train.vectorise: {key} cannot vary within one compiled program (it is not "
            f"a scalar the train step reads as a number); sweep it with gan-sweep. "
            f"Vectorisable: {', '.join(allowed)}")
    if key in (k for k, _ in entries):
        raise ConfigError(f"train.vectorise: {key} is listed twice")
    values = [_number(key, text) for text in listed.split(",")]
    if len(set(values)) < len(values):
        raise ConfigError(f"train.vectorise: {key} lists a value twice: {listed}")
    if key in STRUCTURAL_ZERO and 0 < sum(v == 0 for v in values) < len(values):
        raise ConfigError(f"train.vectorise: {key} mixes 0 (a fixed probability) with "
                          "adaptive targets; they are different programs")
    return values


def _number(key: str, text: str) -> int | float:
    try:
        return int(text) if key == SEED else float(text)
    except ValueError:
        kind = "an integer" if key == SEED else "a number"
        raise ConfigError(f"train.vectorise: {key} value {text!r} is not {kind}") from None


def replica_overrides(config: Any) -> list[dict[str, Any]]:
    """Each replica's overrides of `config`: its vectorised values and its seed, in replica
    order; one empty dict for a run that is not vectorised."""
    groups = parse_groups(config.train.vectorise, config)
    seeds_listed = any(SEED in keys for keys, _ in groups)
    if seeds_listed and config.train.num_seeds > 1:
        raise ConfigError(f"train.vectorise lists seeds, and train.num_seeds="
                          f"{config.train.num_seeds} asks for more; use one of them")
    if not seeds_listed:
        if not groups and config.train.num_seeds == 1:
            return [{}]
        groups.append(((SEED,), [config.seed + k for k in range(config.train.num_seeds)]))
    return [{key: value for (keys, _), value in zip(groups, combination, strict=True)
             for key in keys}
            for combination in itertools.product(*(values for _, values in groups))]


def check(config: Any) -> None:
    """`train.vectorise` parses, and every combination of its values passes the checks of
    an ordinary config (before any seed is drawn)."""
    groups = parse_groups(config.train.vectorise, config)
    if any(SEED in keys for keys, _ in groups) and config.train.num_seeds > 1:
        raise ConfigError(f"train.vectorise lists seeds, and train.num_seeds="
                          f"{config.train.num_seeds} asks for more; use one of them")
    groups = [(keys, values) for keys, values in groups if SEED not in keys]
    for combination in itertools.product(*(values for _, values in groups)):
        _replica(config, {key: value for (keys, _), value in zip(groups, combination,
                                                                 strict=True) for key in keys})


def replica_configs(config: Any) -> list[Any]:
    """Each replica's own config (seed and values set, nothing left to vectorise), checked
    like any config: ConfigError naming the replica for a value out of range."""
    overrides = replica_overrides(config)
    return [config] if overrides == [{}] else [_replica(config, o) for o in overrides]


def _replica(config: Any, overrides: dict[str, Any]) -> Any:
    """`config` with one replica's `overrides`, as a run of its own on one device, checked."""
    from gan_jax.training.checks import validate  # checks validates train.vectorise with this.

    replica = config_lib.apply_overrides(config, overrides, "train.vectorise")
    replica.train.num_seeds, replica.train.vectorise = 1, ""
    if replica.train.parallel == "replicas":  # Alone, a replica trains on one device.
        replica.train.parallel = "jit"
    try:
        validate(replica)
    except ConfigError as e:
        raise ConfigError(f"train.vectorise, replica {overrides_name(overrides)}: {e}") from None
    return replica


def replica_names(config: Any) -> list[str]:
    """Each replica's directory name: `seed_<s>` when only seeds vary, else its overrides
    spelt out (`loss.r1_weight=0.1,seed=0`)."""
    overrides = replica_overrides(config)
    if all(list(o) == [SEED] for o in overrides):
        return [f"seed_{o[SEED]}" for o in overrides]
    return [overrides_name(o) for o in overrides]


def varying_keys(configs: list[Any]) -> list[str]:
    """The vectorisable scalars (seed aside) whose values differ between `configs`."""
    return [key for key in vectorisable_keys() if key != SEED
            and len({float(lookup(c, key)) for c in configs}) > 1]


def structure_config(configs: list[Any], keys: list[str]) -> Any:
    """The config whose structure the replicas share: the first replica's, with each of
    `keys` set to its first non-zero value among them, so a term that any replica weights is
    in the program (a replica weighting it 0 adds 0 times it)."""
    structure = config_lib.ConfigDict(configs[0].to_dict())
    for key in keys:
        values = [float(lookup(c, key)) for c in configs]
        section, _, leaf = key.rpartition(".")
        lookup(structure, section)[leaf] = next((v for v in values if v), 0.0)
    return structure
