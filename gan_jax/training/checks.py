"""Every check of a config against itself, its dataset and its device plan, made once per
entry point before anything is built or compiled. Each raises ConfigError naming the key.

`validate` is the entry points' check of a config alone: the schema (keys, types, ranges) and
the penalty table's ranges. `check_experiment` checks the combinations, once the dataset and
the device plan are known.
"""

from __future__ import annotations

import os
from typing import Any

from gan_jax import config as config_lib
from gan_jax.config import ConfigError
from gan_jax.eval.extractors import check_extractor, check_resize, missing_extractor
from gan_jax.eval.images import parse_metrics
from gan_jax.eval.protocols import parse_protocols
from gan_jax.training import ada, objective, schedules, vectorise
from gan_jax.training import step as step_lib


def validate(config: Any) -> None:
    """Raises ConfigError for the first unknown key, wrong type or out-of-range value,
    penalty settings included. Names that registries resolve are checked when the experiment
    is built."""
    config_lib.validate(config)
    objective.check_ranges(config.loss)
    ada.parse_pipeline(config.ada.pipeline)
    check_schedules(config)
    if config.train.vectorise:  # Every replica's values pass these same checks.
        vectorise.check(config)


def check_schedules(config: Any) -> None:
    """Each schedule entry's shape and lengths, and that its scalar is one that moves."""
    for name in schedules.SCHEDULED:
        entry = config.schedules[name]
        schedules.check(entry, f"schedules.{name}")
        if schedules.is_off(entry):
            continue
        if name == "ema_half_life" and not config.train.ema_half_life:
            raise ConfigError("schedules.ema_half_life: schedules train.ema_half_life, which is "
                              "0 (the EMA follows train.ema_decay); set it")
        if name in ("ada_p", "apa_p") and config[name[:3]].target:
            raise ConfigError(f"schedules.{name}: {name[:3]}.target adapts p; a schedule is "
                              f"for a fixed p (set {name[:3]}.target=0)")
        if name == "ada_p" and not config.ada.pipeline:
            raise ConfigError("schedules.ada_p: schedules the probability of ada.pipeline's "
                              "transforms, which is ''")


def exclusions(config: Any, dataset: Any) -> dict[str, str]:
    """{what a penalty may exclude: why, with {key} for its weight key} for this run."""
    found = {}
    if dataset.kind == "pairs":
        found["translation"] = ("loss.{key}: D penalties and regularisers are not implemented for "
                                "image-to-image translation; set it to 0")
    if dataset.kind == "points":
        found["points"] = ("loss.{key}: transforms images; dataset "
                           f"{config.data.name!r} holds 2D points")
    if config.train.unroll_steps:
        found["unrolling"] = (f"train.unroll_steps: {config.train.unroll_steps} unrolled D "
                              "updates take D's loss without penalties; set loss.{key}=0 or "
                              "train.unroll_steps=0")
    return found


def check_experiment(config: Any, dataset: Any, plan: Any) -> tuple[int, str]:
    """Runs every combination check; returns (the number of classes both players are
    conditioned on, why the configured image metrics will be skipped or "")."""
    check_translation(config, dataset)
    check_augment(config, dataset)
    num_classes = resolve_classes(config, dataset)
    check_grad_accum(config, plan)
    check_packing(config, plan)
    check_seeds(config, plan)
    objective.check_combinations(config, plan, exclusions(config, dataset))
    check_unrolling(config)
    return num_classes, check_eval(config, dataset)


def check_translation(config: Any, dataset: Any) -> None:
    """Paired data and model.condition='image' go together."""
    pairs = dataset.kind == "pairs"
    if config.model.condition == "image" and not pairs:
        raise ConfigError(f"model.condition: 'image' translates input images and needs paired "
                          f"data (aligned_folder, paired_folders, edges2mnist, ...), but "
                          f"dataset {config.data.name!r} is not paired")
    if pairs and config.model.condition != "image":
        raise ConfigError(f"model.condition: dataset {config.data.name!r} holds image pairs; "
                          "set model.condition='image' to translate them")
    if pairs and config.eval.standing_stats:
        raise ConfigError("eval.standing_stats: standing statistics are drawn from latents; "
                          "image-to-image translation does not take them (set it to 0)")


def check_grad_accum(config: Any, plan: Any) -> None:
    """Micro-batches split every device's rows evenly, packs and path-length batches included."""
    accum = config.train.grad_accum
    if accum == 1:
        return
    what = f"train.grad_accum={accum}"
    if config.model.condition == "image":
        raise ConfigError(f"{what}: image-to-image translation updates on whole batches; set "
                          "train.grad_accum=1")
    if config.train.unroll_steps:
        raise ConfigError(f"{what}: unrolled D updates need the whole batch at once; set "
                          "train.unroll_steps=0 or train.grad_accum=1")
    batch, replicas = config.train.batch_size, plan.num_replicas
    on_devices = "" if replicas == 1 else f" on each of {replicas} devices"
    per_device = batch // replicas
    if per_device % accum:
        raise ConfigError(f"{what}: train.batch_size={batch} ({per_device} examples"
                          f"{on_devices}) does not divide into {accum} micro-batches")
    micro = per_device // accum
    if micro % config.model.packing:
        raise ConfigError(f"{what}: micro-batches of {micro} examples do not divide into "
                          f"packs of model.packing={config.model.packing}")
    shrink = config.loss.pl_batch_shrink
    if config.loss.pl_weight and (batch // shrink) % (replicas * accum):
        raise ConfigError(f"{what}: path length's batch, train.batch_size={batch} / "
                          f"loss.pl_batch_shrink={shrink}, does not divide into {accum} "
                          f"micro-batches{on_devices}")


def check_packing(config: Any, plan: Any) -> None:
    """Packs are groups of m examples of one device's rows, judged without labels."""
    m = config.model.packing
    if m == 1:
        return
    if config.model.condition != "none":
        raise ConfigError(f"model.packing: {m} packs unconditional samples; it cannot be "
                          f"combined with model.condition={config.model.condition!r}")
    batch = config.train.batch_size
    if batch % (m * plan.num_replicas):
        per_device = "" if plan.num_replicas == 1 else (
            f" ({batch // plan.num_replicas} per device on {plan.num_replicas} devices)")
        raise ConfigError(f"model.packing: train.batch_size={batch}{per_device} does not "
                          f"divide into packs of {m}")


def check_seeds(config: Any, plan: Any) -> None:
    """Vectorised replicas (seeds, values) share one device, or are spread over the devices
    whole (train.parallel=replicas), never split within a batch."""
    vectorised = vectorise.is_vectorised(config)
    if config.train.parallel == "replicas":
        count = len(vectorise.replica_overrides(config))
        if not vectorised:
            raise ConfigError("train.parallel: 'replicas' spreads a vectorised run's replicas "
                              "over the devices; set train.num_seeds or train.vectorise")
        if count % plan.replica_devices:
            raise ConfigError(f"train.parallel=replicas: {count} replicas do not divide over "
                              f"{plan.replica_devices} devices; use a multiple of "
                              f"{plan.replica_devices} replicas")
        return
    if vectorised and plan.mode != "jit":
        what = (f"train.num_seeds={config.train.num_seeds}" if config.train.num_seeds > 1
                else "train.vectorise")
        raise ConfigError(
            f"{what}: vectorised replicas run on one device, or whole on each of several with "
            "train.parallel=replicas; set train.parallel=jit or replicas")


def check_unrolling(config: Any) -> None:
    """Unrolled D updates use D's plain loss: options that change it are refused."""
    if not config.train.unroll_steps:
        return
    what = f"train.unroll_steps: {config.train.unroll_steps} unrolled D updates"
    if config.train.diff_augment:
        raise ConfigError(f"{what} take D's loss without augmentation; set "
                          "train.diff_augment='' or train.unroll_steps=0")
    if config.model.condition != "none":
        raise ConfigError(f"{what} are for unconditional GANs, not "
                          f"model.condition={config.model.condition!r}")


def check_augment(config: Any, dataset: Any) -> None:
    """DiffAugment, ADA and APA need images that D judges alone, one augmentation at a time,
    and no unrolled D updates; ADA's colour transforms take grey or RGB images."""
    used = [key for key, on in (("train.diff_augment", bool(config.train.diff_augment)),
                                ("ada.pipeline", bool(config.ada.pipeline)),
                                ("apa.p", step_lib.applies(config, "apa"))) if on]
    for key in used:
        if dataset.kind != "images":
            raise ConfigError(f"{key}: augments images; dataset {config.data.name!r} holds "
                              f"{dataset.kind}" + (" (image-to-image translation is not "
                                                   "augmented)" if dataset.kind == "pairs"
                                                   else ""))
        if config.train.unroll_steps and key != "train.diff_augment":
            raise ConfigError(f"{key}: unrolled D updates take D's plain loss; set "
                              "train.unroll_steps=0")
    if config.train.diff_augment and config.ada.pipeline:
        raise ConfigError("ada.pipeline: train.diff_augment already augments what D sees; "
                          "choose one of them")
    channels = dataset.example_shape[-1] if dataset.kind == "images" else 0
    color = set(ada.parse_pipeline(config.ada.pipeline)) & set(ada.GROUPS["color"])
    if color and channels not in (1, 3):
        raise ConfigError(f"ada.pipeline: colour transforms ({', '.join(sorted(color))}) take "
                          f"grey or RGB images, and {config.data.name!r} has {channels} "
                          "channels")


def resolve_classes(config: Any, dataset: Any) -> int:
    """The number of classes both players are conditioned on (0: unconditional), from the
    dataset and checked against `model.num_classes`."""
    if config.model.condition != "class":
        return 0
    found = getattr(dataset, "num_classes", None)
    if not found:
        raise ConfigError(f"model.condition: 'class' needs labelled data, but dataset "
                          f"{config.data.name!r} has no class labels")
    wanted = config.model.num_classes
    if wanted and wanted != found:
        raise ConfigError(f"model.num_classes: {wanted}, but dataset {config.data.name!r} has "
                          f"{found} classes (0 takes the dataset's)")
    return int(found)


def check_eval(config: Any, dataset: Any) -> str:
    """Checks `config.eval` against the dataset; returns why its metrics will be skipped
    (their extractor is not trained yet), or ""."""
    parse_protocols(config.eval.protocols)
    if config.eval.reference_stats and not os.path.isfile(config.eval.reference_stats):
        raise ConfigError(f"eval.reference_stats: no such statistics file "
                          f"{config.eval.reference_stats!r}")
    metrics = parse_metrics(config.eval.metrics)
    if not metrics:
        return ""
    if dataset.kind == "points":
        raise ConfigError(
            f"eval.metrics: {config.eval.metrics!r} are image metrics; 2D mixtures are always "
            "evaluated by modes and quality")
    if "ppl" in metrics and config.model.generator.get("name") != "stylegan":
        raise ConfigError(
            "eval.metrics: 'ppl' (path length in W) needs a style-based generator "
            f"(model.generator.name='stylegan'), not {config.model.generator.get('name')!r}")
    if "ppl" in metrics and config.model.condition != "none":
        raise ConfigError("eval.metrics: 'ppl' measures an unconditional style-based "
                          f"generator, not one with model.condition={config.model.condition!r}")
    check_extractor(config.eval.extractor)
    check_resize(config.eval.extractor, config.eval.resize)
    return missing_extractor(config.eval.extractor, config.eval.extractor_path,
                             config.data.name)


