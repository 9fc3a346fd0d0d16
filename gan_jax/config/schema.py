"""The config schema, its validation, and seed resolution.

`base_config()` lists every key the library reads, with defaults; configs in `configs/` start
from it. `validate()` checks a config against it before anything is built or compiled:
unknown keys, wrong types, unknown names and out-of-range values each raise one ConfigError
naming the key. The sections `data`, `model.generator` and `model.discriminator` are free-form
here and checked against the chosen dataset builder's or module's own fields.
"""

from __future__ import annotations

import json
import os
import runpy
import secrets
from typing import Any

from ml_collections import config_dict

from gan_jax.config.errors import ConfigError, check_value, unknown_key_message

ConfigDict = config_dict.ConfigDict

# Choices the schema itself knows; names of datasets, models, losses and optimizers are checked
# by their registries when the experiment is built.
PARALLEL_MODES = ("auto", "jit", "pmap", "mesh", "replicas")
BATCH_NORM_MODES = ("cross_replica", "per_device")
LATENT_DISTRIBUTIONS = ("normal", "uniform")
# What both players are conditioned on: nothing, the example's class label, or an input image
# (image-to-image translation: G maps the input to an output, D judges (output, input) pairs).
CONDITIONS = ("none", "class", "image")
# The labels fake samples are made for: drawn uniformly from the seed, or the real batch's.
FAKE_LABELS = ("uniform", "real")
PRECISIONS = ("float32", "bfloat16")
# Where real image batches come from: the split held whole on device, or read on the host
# every call (streaming); "auto" streams splits larger than train.device_data_limit_mb.
INPUT_MODES = ("auto", "device", "stream")

# Leaf names whose string values are file system paths: stored absolute in a run's config, so
# the run resumes and evaluates from any current directory.
# The scalars `config.schedules` can move, and the config key each starts from.
SCHEDULED_SCALARS = {
    "g_b2": "optim.g.b2",
    "d_b2": "optim.d.b2",
    "gp_weight": "loss.gp_weight",
    "r1_weight": "loss.r1_weight",
    "r2_weight": "loss.r2_weight",
    "dragan_weight": "loss.dragan_weight",
    "lecam_weight": "loss.lecam_weight",
    "ada_p": "ada.p",
    "apa_p": "apa.p",
    "ema_half_life": "train.ema_half_life",
}

PATH_KEYS = ("path", "data_dir", "manual_dir", "extractor_path", "cache_dir", "init_from")

FREE_FORM_SECTIONS = ("data", "model.generator", "model.discriminator")

# Keys that may change when a run is resumed in the same workdir: how long to train and how
# often to log, sample, checkpoint and evaluate. Anything else would silently change the run.
RESUMABLE_KEYS = (
    "train.num_steps",
    "train.log_every",
    "train.sample_every",
    "train.checkpoint_every",
    "train.keep_checkpoints",
    "train.eval_every",
    "train.progress_bar",
    "train.compilation_cache",
    "train.parallel",
    "train.shard_params",
    "train.input",  # Both paths read the same batches.
    "train.device_data_limit_mb",
    "eval.num_samples",
    "eval.metrics",
    "eval.extractor",
    "eval.extractor_path",
    "eval.reference_split",
    "eval.batch_size",
    "eval.cache_dir",
)


def optimizer_config(lr: float = 1e-4, b1: float = 0.5, b2: float = 0.999) -> ConfigDict:
    return ConfigDict(
        dict(
            name="adam",  # adam | adamw | sgd | rmsprop
            lr=lr,
            b1=b1,  # Adam beta1.
            b2=b2,  # Adam beta2; RMSProp decay.
            eps=1e-8,
            momentum=0.0,  # SGD and RMSProp momentum; 0 disables it.
            weight_decay=0.0,  # Decoupled; adamw only.
            schedule="constant",  # constant | linear | cosine (decay to lr_end over the run)
            warmup_steps=0,  # Linear warm-up, in this player's updates.
            lr_end=0.0,  # Where linear and cosine schedules end.
            schedule_steps=0,  # Updates they take after the warm-up (0: the rest of the run).
            grad_clip_norm=0.0,  # Clip by global norm; 0 disables it.
            # One update over all parameters as a single vector (optax.flatten): the same
            # arithmetic in fewer, larger kernels, equal to float32 rounding (not bit for
            # bit); the optimizer state is stored flat.
            flatten=False,
        )
    )


def schedule_config() -> ConfigDict:
    """A scalar's schedule (gan_jax.training.schedules): off by default."""
    return ConfigDict(dict(
        shape="constant",  # constant | linear | cosine: from the scalar's value to `end`
        end=0.0,
        steps=0,  # Train steps the move takes after the warm-up (0: the rest of the run).
        warmup_steps=0,  # Linear warm-up from 0 first.
    ))


def adaptive_config() -> ConfigDict:
    """The probability ADA augments with, or APA deceives with."""
    return ConfigDict(dict(
        p=0.0,  # Fixed (or scheduled), or where the adaptive p starts.
        # Adapt p so that E[sign D(x_real)] stays at this target (ADA: 0.6); 0: p is fixed.
        target=0.0,
        interval=4,  # Train steps between adjustments.
        kimg=500.0,  # p could cross [0, 1] in this many thousand images.
    ))


def base_config() -> ConfigDict:
    """Every key the library reads, with its default."""
    config = ConfigDict()
    config.seed = config_dict.placeholder(int)  # None: drawn at start, then logged and reused.
    # Your own modules, imported before anything is built: comma-separated module names or
    # paths to .py files. What they register (models, losses, datasets, optimizers) is then
    # known by name here and wherever the run is resumed, evaluated or sampled.
    config.imports = ""

    config.data = ConfigDict(dict(name="ring"))

    config.model = ConfigDict()
    config.model.latent_dim = 2
    config.model.latent_dist = "normal"  # normal | uniform on [-1, 1]
    config.model.generator = ConfigDict(dict(name="mlp"))
    config.model.discriminator = ConfigDict(dict(name="mlp"))
    # "class": G(z, y) and D(x, y) for class labels y; each family's `conditioning` field says
    # how (e.g. conditional BatchNorm in G, a projection in D). See docs/conditional.md.
    # "image": G(a) maps an input image a to an output and D(x, a) judges pairs, on paired
    # data (see docs/translation.md).
    config.model.condition = "none"  # none | class | image
    config.model.num_classes = 0  # 0: the dataset's number of classes; else checked against it.
    config.model.fake_labels = "uniform"  # uniform (drawn from the seed) | real (the batch's)
    # PacGAN: D judges packs of this many samples, concatenated along features or channels.
    config.model.packing = 1

    config.loss = ConfigDict()
    # minimax | non_saturating | least_squares | hinge | wasserstein | rpgan | ragan
    config.loss.name = "non_saturating"
    config.loss.gp_weight = 0.0  # WGAN-GP lambda: adds lambda * E(||grad D(x_hat)|| - 1)^2.
    config.loss.r1_weight = 0.0  # R1 gamma: adds gamma / 2 * E||grad D(x_real)||^2.
    # R2 gamma: adds gamma / 2 * E||grad D(G(z))||^2 on the fakes (R3GAN uses R1 + R2).
    config.loss.r2_weight = 0.0
    # Lazy R1 and R2 (StyleGAN2): the penalty, times this interval, on every interval-th D
    # update.
    config.loss.r1_interval = 1
    # DRAGAN: adds lambda * E(||grad D(x_hat)|| - 1)^2 at real data perturbed by up to
    # dragan_scale standard deviations of the batch (Kodali et al. 2017 use lambda 10).
    config.loss.dragan_weight = 0.0
    config.loss.dragan_scale = 0.5
    # LeCam (Tseng et al. 2021): adds lambda * (E(D(x) - a_F)^2 + E(D(G(z)) - a_R)^2), with
    # a_R, a_F moving averages (this decay) of D's mean logit on reals and fakes.
    config.loss.lecam_weight = 0.0
    config.loss.lecam_decay = 0.99
    # Consistency regularisation (Zhang et al. 2020; Zhao et al. 2021): CR/bCR add
    # weight * E||D(x) - D(T(x))||^2 on reals (cr_weight) and on fakes (bcr_fake_weight), T
    # drawn from these ADA transforms (gan_jax.training.ada), each applied;
    config.loss.cr_weight = 0.0
    config.loss.bcr_fake_weight = 0.0
    config.loss.cr_augment = "xflip,xint"
    # zCR: D's consistency E||D(G(z)) - D(G(z + e))||^2 (zcr_d_weight) and G's diversity
    # -E||G(z) - G(z + e)||^2 (zcr_g_weight), e ~ N(0, zcr_sigma^2).
    config.loss.zcr_d_weight = 0.0
    config.loss.zcr_g_weight = 0.0
    config.loss.zcr_sigma = 0.05
    # BigGAN's orthogonal regularisation of G's weight matrices W (out x fan_in): weight / 2 *
    # sum ||W W^T * (1 - I)||_F^2, whose gradient is BigGAN-PyTorch's G_ortho (1e-4 there).
    config.loss.ortho_weight = 0.0
    # Path-length regularisation of a style-based G (StyleGAN2; 0 disables it): weight,
    # lazy interval (the term, times it, on every interval-th G update), decay of the running
    # mean length, and the factor by which its batch is smaller than the training batch.
    config.loss.pl_weight = 0.0
    config.loss.pl_interval = 4
    config.loss.pl_decay = 0.01
    config.loss.pl_batch_shrink = 2
    # Weight of the auxiliary classification loss of a discriminator with a class head
    # (AC-GAN), added to D's loss (real and fake examples) and to G's (fake examples).
    config.loss.class_weight = 1.0
    # Image-to-image runs only: G's loss is gan_weight * (adversarial loss) + l1_weight *
    # mean |G(a) - b| (pix2pix's lambda), and D's loss is halved, as in pix2pix.
    config.loss.l1_weight = 100.0
    config.loss.gan_weight = 1.0

    config.optim = ConfigDict()
    config.optim.g = optimizer_config()
    config.optim.d = optimizer_config()

    config.train = ConfigDict()
    config.train.num_steps = 10_000  # Generator updates.
    config.train.batch_size = 512
    config.train.n_disc = 1  # Discriminator updates per generator update.
    # Unrolled GAN: G's loss against D after this many more (differentiated) D updates.
    config.train.unroll_steps = 0
    # Gradient accumulation: each update averages the gradients of this many micro-batches,
    # run one after another, so a large train.batch_size fits in a small device's memory.
    config.train.grad_accum = 1
    config.train.steps_per_call = 100  # Train steps fused into one compiled call (lax.scan).
    # Independent seeds trained at once by vmap over the train state: seed, seed + 1, ...
    # Each is logged and evaluated in workdir/seed_<s>/ (see gan_jax/training/replicas.py).
    config.train.num_seeds = 1
    # Vectorised hyperparameters: scalar keys and their values, trained as one compiled
    # program of every combination (times the seeds), e.g. "loss.r1_weight=0.1,1,10
    # optim.d.lr=1e-4,2e-4"; each replica logs in its own workdir/<key=value,...,seed=s>/.
    config.train.vectorise = ""
    config.train.ema_decay = 0.999  # Generator weight EMA; 0 makes the EMA a copy.
    # StyleGAN2-ADA's ramp-up: the EMA's half-life is at most this fraction of the images
    # seen (its decay min(ema_decay, 0.5 ** (1 / (ema_rampup * step)))), so the EMA follows G
    # closely early on instead of holding the initial weights; 0: off (StyleGAN2-ADA: 0.05).
    config.train.ema_rampup = 0.0
    # The EMA as StyleGAN2-ADA gives it: its half-life in images (decay 0.5 ** (batch /
    # half-life)), in place of ema_decay; 0: ema_decay is used.
    config.train.ema_half_life = 0.0
    # BigGAN's ema_start: the EMA copies G for this many G updates, then averages (0: off).
    config.train.ema_start = 0
    # Fine-tuning: start from another run's G, D and EMA weights (a run directory or one of
    # its checkpoints); with init_optimizer, from its optimizer states too.
    config.train.init_from = ""
    config.train.init_optimizer = False
    # FreezeD (Mo et al. 2020): D's first this many blocks keep their weights.
    config.train.freeze_d = 0
    config.train.log_every = 500
    config.train.sample_every = 2_500  # 0: only at the end.
    config.train.checkpoint_every = 2_500
    config.train.keep_checkpoints = 3
    config.train.eval_every = 0  # 0: only at the end.
    # Keep compiled programs on disk (gan_jax/runs/compilation_cache.py): restarts skip compiling.
    config.train.compilation_cache = True
    config.train.progress_bar = True
    # Devices: "auto" pmaps over all devices when there is more than one, else jits;
    # "jit" or "pmap" force one; "mesh" jits over a device mesh with the batch sharded;
    # "replicas" spreads a vectorised run's replicas (seeds, values) over the devices.
    # train.batch_size is the global batch, split over devices.
    config.train.parallel = "auto"
    # Under "mesh": also shard parameters and optimizer states over the devices (FSDP-style).
    config.train.shard_params = False
    # Real images: "device" holds the split on the accelerator, "stream" reads each call's
    # batches on the host (the same batches), "auto" streams splits above the limit.
    config.train.input = "auto"
    config.train.device_data_limit_mb = 4096.0
    # BatchNorm under pmap: "cross_replica" normalises over the global batch (the same
    # numbers as one device); "per_device" over each device's share (running statistics
    # are then averaged over devices after every update).
    config.train.batch_norm = "cross_replica"
    # Differentiable augmentation of every image D sees, real and generated (DiffAugment):
    # comma-separated operations of color, translation, cutout; "" for none.
    config.train.diff_augment = ""
    # "bfloat16" computes both players in bfloat16; parameters, optimizer state, losses and
    # BatchNorm statistics stay float32.
    config.train.precision = "float32"

    # Adaptive discriminator augmentation (ADA): comma-separated transforms or groups of
    # gan_jax.training.ada (blit, geom, color, bgc = all), applied with probability p to every
    # image D sees; "" for none.
    config.ada = adaptive_config()
    config.ada.pipeline = ""
    # Adaptive pseudo augmentation (APA): with probability p, D's real example is a generated
    # one.
    config.apa = adaptive_config()
    # Schedules of the training scalars by name (gan_jax.training.schedules.SCHEDULED).
    config.schedules = ConfigDict({name: schedule_config() for name in SCHEDULED_SCALARS})

    config.eval = ConfigDict()
    config.eval.num_samples = 2_500  # Samples per generator (image configs: 10,000).
    # Image metrics, comma-separated: fd, kid, is, pr (precision/recall), dc (density/
    # coverage), modes (Stacked MNIST). "" computes none.
    config.eval.metrics = ""
    config.eval.extractor = "classifier"  # classifier | inception_v3 | dinov2
    # A gan-train-classifier workdir, or Inception or DINOv2 .npz weights.
    config.eval.extractor_path = ""
    # How an extractor that resizes to a fixed input does it: legacy_pytorch (pytorch-fid),
    # clean or legacy_tensorflow (clean-fid's modes); "" is the extractor's own default.
    config.eval.resize = ""
    # A pytorch-fid or clean-fid statistics file (.npz with mu, sigma) to take fd against too.
    config.eval.reference_stats = ""
    # Named protocols (gan_jax/eval/protocols.py: fid50k_full, kid50k_full, pr50k3_full, is50k,
    # fid10k, fd_dinov2, kd_dinov2, dc_dinov2, ...), comma-separated, and the InceptionV3 and
    # DINOv2 weights they read ("": the run's eval.extractor_path when its extractor is that
    # one).
    config.eval.protocols = ""
    config.eval.inception_path = ""
    config.eval.dinov2_path = ""
    config.eval.reference_split = "test"  # The real split the samples are compared with.
    config.eval.batch_size = 500
    # Batches of the EMA generator's own samples its BatchNorm statistics are recomputed over
    # before it is sampled or evaluated (standing statistics); 0: it uses the raw G's.
    config.eval.standing_stats = 0
    config.eval.cache_dir = ""  # Reference statistics; "": ~/.cache/gan_jax/reference_stats.
    return config


def flatten(config: ConfigDict, prefix: str = "") -> dict[str, Any]:
    """{"a.b.c": value} for every leaf of `config`."""
    flat = {}
    for key in config.keys():
        path = f"{prefix}{key}"
        value = config[key]
        if isinstance(value, ConfigDict):
            flat.update(flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def _schema_type(schema: ConfigDict, key: str) -> type:
    value = schema[key]
    if value is None:  # A placeholder: the type is on its field reference.
        return schema.get_ref(key).get_type()
    return type(value)


def check_structure(config: ConfigDict, schema: ConfigDict,
                    free_form: tuple[str, ...] = FREE_FORM_SECTIONS, prefix: str = "",
                    all_keys: list[str] | None = None) -> None:
    """Raises ConfigError for a key `schema` lacks, a missing key, or a value of the wrong
    type; sections named in `free_form` are checked by whoever reads them."""
    for key in config.keys():
        path = f"{prefix}{key}"
        if key not in schema:
            known = all_keys if all_keys is not None else list(flatten(schema))
            raise ConfigError(unknown_key_message(path, known))
        value, expected = config[key], schema[key]
        if isinstance(expected, ConfigDict):
            if not isinstance(value, ConfigDict):
                raise ConfigError(f"{path}: expected a section, got {value!r}")
            if path not in free_form:
                check_structure(value, expected, free_form, f"{path}.",
                                all_keys if all_keys is not None else list(flatten(schema)))
            continue
        expected_type = _schema_type(schema, key)
        if value is None:
            if schema[key] is not None:
                raise ConfigError(f"{path}: must be set (expected {expected_type.__name__})")
            continue
        check_value(path, value, expected_type, positive_ints=False)  # Ranges: _check_ranges.
    for key in schema.keys():
        if key not in config and not isinstance(schema[key], ConfigDict):
            if schema[key] is not None:
                raise ConfigError(f"missing config key {prefix}{key!r}")


def _require(condition: bool, key: str, message: str, value: Any) -> None:
    if not condition:
        raise ConfigError(f"{key}: {message}, got {value!r}")


def _check_ranges(config: ConfigDict) -> None:
    t = config.train
    for key in ("num_steps", "batch_size", "n_disc", "grad_accum", "num_seeds", "steps_per_call",
                "log_every",
                "checkpoint_every", "keep_checkpoints"):
        _require(t[key] >= 1, f"train.{key}", "must be >= 1", t[key])
    for key in ("sample_every", "eval_every"):
        _require(t[key] >= 0, f"train.{key}", "must be >= 0 (0 disables it)", t[key])
    _require(0.0 <= t.ema_decay < 1.0, "train.ema_decay", "must be in [0, 1)", t.ema_decay)
    _require(0.0 <= t.ema_rampup <= 1.0, "train.ema_rampup", "must be in [0, 1] (0: off)",
             t.ema_rampup)
    _require(t.ema_start >= 0, "train.ema_start", "must be >= 0 (0: off)", t.ema_start)
    _require(t.ema_half_life >= 0, "train.ema_half_life", "must be >= 0 (0: ema_decay)",
             t.ema_half_life)
    _require(t.freeze_d >= 0, "train.freeze_d", "must be >= 0 (0: nothing frozen)", t.freeze_d)
    _require(not t.init_optimizer or t.init_from, "train.init_optimizer",
             "restores optimizer states from train.init_from, which is not set", True)
    for name in ("ada", "apa"):
        cfg = config[name]
        _require(0 <= cfg.p < 1, f"{name}.p", "must be in [0, 1)", cfg.p)
        _require(0 <= cfg.target < 1, f"{name}.target",
                 "must be in (0, 1) (0: a fixed p)", cfg.target)
        _require(cfg.interval >= 1, f"{name}.interval", "must be >= 1", cfg.interval)
        _require(cfg.kimg > 0, f"{name}.kimg", "must be > 0", cfg.kimg)
    _require(not config.ada.target or config.ada.pipeline, "ada.target",
             "adapts the probability of ada.pipeline's transforms, which is ''",
             config.ada.target)
    _require(config.loss.zcr_sigma > 0, "loss.zcr_sigma", "must be > 0", config.loss.zcr_sigma)
    _require(t.unroll_steps >= 0, "train.unroll_steps", "must be >= 0 (0: no unrolling)",
             t.unroll_steps)
    _require(config.model.packing >= 1, "model.packing", "must be >= 1 (1: no packing)",
             config.model.packing)
    _require(config.model.latent_dim >= 1, "model.latent_dim", "must be >= 1",
             config.model.latent_dim)
    _require(config.eval.standing_stats >= 0, "eval.standing_stats",
             "must be >= 0 (0: the EMA generator uses the raw one's BatchNorm statistics)",
             config.eval.standing_stats)
    for key in ("num_samples", "batch_size"):
        _require(config.eval[key] >= 1, f"eval.{key}", "must be >= 1", config.eval[key])
    # Penalty weights, intervals and options: their table (gan_jax.training.objective).
    for key in ("class_weight", "l1_weight", "gan_weight"):
        _require(config.loss[key] >= 0, f"loss.{key}", "must be >= 0", config.loss[key])
    if config.seed is not None:
        _require(0 <= config.seed < 2**63, "seed", "must be a non-negative integer", config.seed)
    for player in ("g", "d"):
        cfg = config.optim[player]
        for key in ("lr", "eps", "momentum", "weight_decay", "grad_clip_norm", "warmup_steps"):
            _require(cfg[key] >= 0, f"optim.{player}.{key}", "must be >= 0", cfg[key])
        for key in ("b1", "b2"):
            _require(0 <= cfg[key] < 1, f"optim.{player}.{key}", "must be in [0, 1)", cfg[key])
    _require(t.parallel in PARALLEL_MODES, "train.parallel",
             f"must be one of {', '.join(PARALLEL_MODES)}", t.parallel)
    _require(t.input in INPUT_MODES, "train.input", f"must be one of {', '.join(INPUT_MODES)}",
             t.input)
    _require(t.device_data_limit_mb >= 0, "train.device_data_limit_mb", "must be >= 0",
             t.device_data_limit_mb)
    _require(not t.shard_params or t.parallel == "mesh", "train.shard_params",
             "shards over a device mesh: set train.parallel=mesh", t.shard_params)
    _require(t.batch_norm in BATCH_NORM_MODES, "train.batch_norm",
             f"must be one of {', '.join(BATCH_NORM_MODES)}", t.batch_norm)
    _require(t.precision in PRECISIONS, "train.precision",
             f"must be one of {', '.join(PRECISIONS)}", t.precision)
    _require(config.model.condition in CONDITIONS, "model.condition",
             f"must be one of {', '.join(CONDITIONS)}", config.model.condition)
    _require(config.model.fake_labels in FAKE_LABELS, "model.fake_labels",
             f"must be one of {', '.join(FAKE_LABELS)}", config.model.fake_labels)
    _require(config.model.num_classes >= 0, "model.num_classes",
             "must be >= 0 (0 takes the dataset's)", config.model.num_classes)
    _require(config.model.latent_dist in LATENT_DISTRIBUTIONS, "model.latent_dist",
             f"must be one of {', '.join(LATENT_DISTRIBUTIONS)}", config.model.latent_dist)


def validate(config: ConfigDict) -> None:
    """Raises ConfigError for the first unknown key, wrong type or out-of-range value.

    Names that registries resolve (dataset, models, loss, optimizers, metrics) are checked
    where those objects are built, in `experiment.build_experiment`, before anything compiles.
    """
    if not isinstance(config, ConfigDict):
        raise ConfigError(f"a config must be an ml_collections ConfigDict, got {type(config)}")
    check_structure(config, base_config())
    _check_ranges(config)


def absolute_paths(config: ConfigDict) -> ConfigDict:
    """A copy whose non-empty path values (keys in PATH_KEYS) are absolute, resolved against
    the current directory."""
    config = ConfigDict(config.to_dict())

    def visit(node: ConfigDict) -> None:
        for key in node.keys():
            value = node[key]
            if isinstance(value, ConfigDict):
                visit(value)
            elif key in PATH_KEYS and isinstance(value, str) and value:
                node[key] = os.path.abspath(os.path.expanduser(value))

    visit(config)
    config.imports = ",".join(  # Files, not module names.
        os.path.abspath(os.path.expanduser(m)) if m.endswith(".py") else m
        for m in (m.strip() for m in config.imports.split(",")) if m)
    return config


def with_seed(config: ConfigDict, seed: int | None = None) -> ConfigDict:
    """A copy whose `seed` is set: the config's own, else `seed`, else a fresh OS-entropy draw."""
    resolved = ConfigDict(config.to_dict())  # Plain copy; placeholders become plain values.
    if config.seed is None:
        resolved.seed = seed if seed is not None else secrets.randbits(31)
    return resolved


def to_json(config: ConfigDict) -> str:
    return config.to_json(indent=2, sort_keys=True)


def from_json(text: str) -> ConfigDict:
    """A config saved by `to_json`; JSON's lists come back as the tuples they were saved from
    (model fields such as `multipliers` are typed as tuples)."""
    def tuples(value: Any) -> Any:
        if isinstance(value, list):
            return tuple(tuples(v) for v in value)
        if isinstance(value, dict):
            return {k: tuples(v) for k, v in value.items()}
        return value

    return ConfigDict(tuples(json.loads(text)))


def with_defaults(config: ConfigDict, defaults: ConfigDict,
                  prefix: str = "") -> ConfigDict:
    """Adds the keys a config saved by an older gan_jax lacks, with their defaults (free-form
    sections such as `data` are left as saved)."""
    for key in defaults.keys():
        if key not in config:
            config[key] = defaults[key]
        elif (isinstance(defaults[key], ConfigDict)
              and f"{prefix}{key}" not in FREE_FORM_SECTIONS):
            with_defaults(config[key], defaults[key], f"{prefix}{key}.")
    return config


def resume_conflicts(saved: ConfigDict, new: ConfigDict) -> list[str]:
    """Keys whose values differ between a workdir's saved config and a new one, except those
    in RESUMABLE_KEYS. An empty list means the new config may resume the saved run."""
    def sequences_as_tuples(value: Any) -> Any:  # JSON saves tuples as lists.
        if isinstance(value, list | tuple):
            return tuple(sequences_as_tuples(v) for v in value)
        return value

    old_flat = {k: sequences_as_tuples(v) for k, v in flatten(saved).items()}
    new_flat = {k: sequences_as_tuples(v) for k, v in flatten(new).items()}
    # A free-form key a run saved before it existed behaved as its off value (0, "", False).
    added_off = {k for k, v in new_flat.items()
                 if k not in old_flat and k.rpartition(".")[0] in FREE_FORM_SECTIONS
                 and not v and isinstance(v, int | float | str | bool)}
    keys = sorted((set(old_flat) | set(new_flat)) - added_off)
    return [
        f"{k}: saved {old_flat.get(k)!r}, now {new_flat.get(k)!r}"
        for k in keys
        if k not in RESUMABLE_KEYS and old_flat.get(k) != new_flat.get(k)
    ]


def sections(config: ConfigDict, prefix: str = "") -> list[str]:
    """The dotted paths of every section of `config`."""
    found = []
    for key in config.keys():
        if isinstance(config[key], ConfigDict):
            found += [f"{prefix}{key}", *sections(config[key], f"{prefix}{key}.")]
    return found


def apply_overrides(config: ConfigDict, overrides: dict[str, Any],
                    what: str = "override") -> ConfigDict:
    """A copy of `config` with `overrides` set. A key the config lacks is an error, except new
    fields of the free-form sections (model.generator, ...), which `validate` checks."""
    config = ConfigDict(config.to_dict())
    for key, value in overrides.items():
        *parents, leaf = key.split(".")
        node = config
        for depth, part in enumerate(parents):
            if not isinstance(node, ConfigDict) or part not in node:
                where = ".".join(parents[:depth + 1])
                raise ConfigError(unknown_key_message(
                    where, sections(config), f"{what} {key!r}: unknown config section"))
            node = node[part]
        section = ".".join(parents)
        if not isinstance(node, ConfigDict) or (
            leaf not in node and section not in FREE_FORM_SECTIONS
        ):
            raise ConfigError(unknown_key_message(
                key, list(flatten(config)), f"{what}: unknown config key"))
        if isinstance(node.get(leaf), ConfigDict):
            raise ConfigError(f"{what} {key!r}: names a section, not a value")
        try:
            node[leaf] = value
        except TypeError as e:
            raise ConfigError(f"{what} {key!r}: {e}") from None
    return config


def load_config_file(spec: str, flag: str = "--config",
                     relative_to: str | None = None) -> ConfigDict:
    """The config of `path[:arg]` (a file defining get_config), looked for relative to
    `relative_to` first, then to the working directory; one-line errors for a missing file, a
    file that does not load or has no get_config, or an argument the file does not take."""
    path, _, arg = spec.partition(":")
    candidates = [os.path.join(relative_to, path)] if relative_to else []
    found = next((p for p in [*candidates, path] if os.path.isfile(p)), None)
    if found is None:
        raise ConfigError(f"{flag}: no such config file: {path}")
    path = found
    try:
        get_config = runpy.run_path(path).get("get_config")
    except Exception as e:  # noqa: BLE001 - the user's file: say which and why, in one line.
        raise ConfigError(f"{flag}: {path} cannot be loaded: {type(e).__name__}: "
                          f"{' '.join(str(e).split())}") from e
    if get_config is None:
        raise ConfigError(f"{flag}: {path} defines no get_config()")
    try:
        return get_config(arg) if arg else get_config()
    except TypeError as e:
        if arg and "positional argument" in str(e):
            raise ConfigError(f"{flag}: {path} takes no argument, got {arg!r}") from None
        raise
    except (ValueError, KeyError) as e:
        raise ConfigError(f"{flag}: {spec}: {' '.join(str(e).split())}") from None
