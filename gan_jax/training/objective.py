"""The objective in one place: the adversarial losses, the penalties and regularisers, and
the auxiliary terms (AC-GAN's classification, pix2pix's L1).

Losses are pure functions of discriminator logits. A loss sees D's logits on real and fake
examples in both players' updates, so relativistic losses fit: G's update evaluates D on the
real batch for losses that read it (`GANLoss.g_reads_real`), and passes None otherwise.

Penalties and regularisers are rows of one table, `PENALTIES`: the config schema's range
checks, the combination checks and both steps read it. Adding one is a function, a row, and
its config key in `gan_jax.config.schema.base_config`.

Every loss returns a scalar averaged over the batch. "Logits" are the raw, unbounded
discriminator outputs; D(x) = sigmoid(logit) for the probabilistic losses, and the critic
value itself for the hinge and Wasserstein losses. The BCE forms use log-sigmoid identities
(log D = -softplus(-l), log(1 - D) = -softplus(l)) so they never take the log of a
rounded-to-zero probability.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from gan_jax.config import ConfigError
from gan_jax.config.registry import Registry
from gan_jax.training import ada, packing, schedules

Array = jax.Array
PyTree = Any


class GANLoss(NamedTuple):
    """A discriminator loss and the matching generator loss, both of (real, fake) logits."""

    d_loss: Callable[[Array, Array], Array]  # (real_logits, fake_logits) -> scalar
    g_loss: Callable[[Array | None, Array], Array]  # (real_logits, fake_logits) -> scalar
    # Whether g_loss reads the real logits (relativistic losses); if not, G's update passes
    # None and never runs D on the real batch.
    g_reads_real: bool = False


def on_fakes(g_loss: Callable[[Array], Array]) -> Callable[[Array | None, Array], Array]:
    """A generator loss of fake logits alone, in the (real, fake) form of `GANLoss.g_loss`."""
    return lambda real_logits, fake_logits: g_loss(fake_logits)


LOSSES: Registry[GANLoss] = Registry("loss")


def bce_d_loss(real_logits: Array, fake_logits: Array) -> Array:
    """-log D(x) - log(1 - D(G(z))): binary cross-entropy with labels 1 (real) and 0 (fake)."""
    return jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))


def minimax_g_loss(fake_logits: Array) -> Array:
    """log(1 - D(G(z))), the saturating loss of the original minimax game (G minimises it).

    Equivalently G maximises -log(1 - D(G(z))). Its gradient vanishes when D confidently
    rejects the fakes, which is why the non-saturating loss is used in practice.
    """
    return -jnp.mean(jax.nn.softplus(fake_logits))


def non_saturating_g_loss(fake_logits: Array) -> Array:
    """-log D(G(z)): same fixed point as minimax, strong gradients early in training."""
    return jnp.mean(jax.nn.softplus(-fake_logits))


def least_squares_d_loss(real_logits: Array, fake_logits: Array) -> Array:
    """LSGAN with targets a=0 (fake), b=1 (real): 1/2 E(D(x)-1)^2 + 1/2 E D(G(z))^2."""
    return 0.5 * jnp.mean((real_logits - 1.0) ** 2) + 0.5 * jnp.mean(fake_logits**2)


def least_squares_g_loss(fake_logits: Array) -> Array:
    """LSGAN generator target c=1: 1/2 E(D(G(z))-1)^2."""
    return 0.5 * jnp.mean((fake_logits - 1.0) ** 2)


def hinge_d_loss(real_logits: Array, fake_logits: Array) -> Array:
    """E max(0, 1 - D(x)) + E max(0, 1 + D(G(z)))."""
    return jnp.mean(jax.nn.relu(1.0 - real_logits)) + jnp.mean(jax.nn.relu(1.0 + fake_logits))


def wasserstein_d_loss(real_logits: Array, fake_logits: Array) -> Array:
    """E D(G(z)) - E D(x): the critic maximises the gap between real and fake scores."""
    return jnp.mean(fake_logits) - jnp.mean(real_logits)


def critic_g_loss(fake_logits: Array) -> Array:
    """-E D(G(z)): generator loss for the hinge and Wasserstein critics."""
    return -jnp.mean(fake_logits)


def relativistic_pairing_d_loss(real_logits: Array, fake_logits: Array) -> Array:
    """RpGAN (R3GAN's loss): E softplus(D(G(z_i)) - D(x_i)), real and fake paired by index."""
    return jnp.mean(jax.nn.softplus(fake_logits - real_logits))


def relativistic_pairing_g_loss(real_logits: Array, fake_logits: Array) -> Array:
    """RpGAN's generator term: E softplus(D(x_i) - D(G(z_i)))."""
    return jnp.mean(jax.nn.softplus(real_logits - fake_logits))


def relativistic_average_d_loss(real_logits: Array, fake_logits: Array) -> Array:
    """RaGAN (Jolicoeur-Martineau 2019), the standard form: real logits judged against the
    mean fake logit and fake against the mean real, E softplus(-(D(x) - E D(G(z)))) +
    E softplus(D(G(z)) - E D(x)). The means are over this device's rows."""
    return (jnp.mean(jax.nn.softplus(-(real_logits - jnp.mean(fake_logits))))
            + jnp.mean(jax.nn.softplus(fake_logits - jnp.mean(real_logits))))


def relativistic_average_g_loss(real_logits: Array, fake_logits: Array) -> Array:
    """RaGAN's generator term: the D loss with the roles of real and fake swapped."""
    return relativistic_average_d_loss(fake_logits, real_logits)


LOSSES.register("minimax")(GANLoss(bce_d_loss, on_fakes(minimax_g_loss)))
LOSSES.register("non_saturating")(GANLoss(bce_d_loss, on_fakes(non_saturating_g_loss)))
LOSSES.register("least_squares")(GANLoss(least_squares_d_loss, on_fakes(least_squares_g_loss)))
LOSSES.register("hinge")(GANLoss(hinge_d_loss, on_fakes(critic_g_loss)))
LOSSES.register("wasserstein")(GANLoss(wasserstein_d_loss, on_fakes(critic_g_loss)))
LOSSES.register("rpgan")(GANLoss(relativistic_pairing_d_loss, relativistic_pairing_g_loss,
                                 g_reads_real=True))
LOSSES.register("ragan")(GANLoss(relativistic_average_d_loss, relativistic_average_g_loss,
                                 g_reads_real=True))


def classification_loss(class_logits: Array, labels: Array) -> Array:
    """Softmax cross-entropy of integer labels, averaged: the auxiliary loss of a
    discriminator with a class head (AC-GAN)."""
    log_probs = jax.nn.log_softmax(class_logits.astype(jnp.float32), axis=-1)
    return -jnp.mean(jnp.take_along_axis(log_probs, labels[:, None], axis=-1))


def get_loss(name: str) -> GANLoss:
    return LOSSES.get(name, key="loss.name")


# pix2pix divides D's objective by 2, and adds an L1 term to G's.
TRANSLATION_D_SCALE = 0.5


def l1_loss(outputs: Array, targets: Array) -> Array:
    """mean |G(a) - b|: pix2pix's reconstruction term (weighted by `loss.l1_weight`)."""
    return jnp.mean(jnp.abs(outputs - targets))


def _per_example_grad_sq_norm(critic: Callable[[Array], Array], x: Array) -> Array:
    """||d critic(x_i) / d x_i||^2 for every example i (the critic must act per example)."""
    grads = jax.grad(lambda inputs: jnp.sum(critic(inputs)))(x)
    return jnp.sum(jnp.reshape(grads, (grads.shape[0], -1)) ** 2, axis=-1)


def gradient_penalty(
    critic: Callable[[Array], Array], real: Array, fake: Array, key: Array
) -> Array:
    """WGAN-GP: E (||grad critic(x_hat)|| - 1)^2 at x_hat uniformly between real and fake pairs."""
    eps_shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    eps = jax.random.uniform(key, eps_shape, dtype=real.dtype)
    x_hat = eps * real + (1.0 - eps) * fake
    sq_norm = _per_example_grad_sq_norm(critic, x_hat)
    # The tiny offset keeps the gradient of the sqrt finite where the gradient is exactly zero.
    return jnp.mean((jnp.sqrt(sq_norm + 1e-12) - 1.0) ** 2)


def r1_penalty(critic: Callable[[Array], Array], real: Array) -> Array:
    """R1 (Mescheder et al. 2018): E ||grad critic(x)||^2 on real data. Weighted by gamma/2."""
    return jnp.mean(_per_example_grad_sq_norm(critic, real))


def dragan_penalty(critic: Callable[[Array], Array], real: Array, key: Array,
                   scale: float = 0.5, spread: Array | None = None) -> Array:
    """DRAGAN (Kodali et al. 2017): E (||grad critic(x_hat)|| - 1)^2 around the real data, at
    x_hat = x + a * scale * spread * u, with u ~ U[0, 1) per element, a ~ U[0, 1) per example
    and `spread` the standard deviation of the real batch (default: of `real`)."""
    noise_key, alpha_key = jax.random.split(key)
    spread = jnp.std(real) if spread is None else spread
    noise = scale * spread * jax.random.uniform(noise_key, real.shape, real.dtype)
    alpha = jax.random.uniform(alpha_key, (real.shape[0],) + (1,) * (real.ndim - 1),
                               real.dtype)
    sq_norm = _per_example_grad_sq_norm(critic, real + alpha * noise)
    return jnp.mean((jnp.sqrt(sq_norm + 1e-12) - 1.0) ** 2)


# Where DRAGAN's perturbations come from: this stream of a D update's penalty key.
DRAGAN_STREAM = 1
# Where path-length regularisation draws from: this stream of the G update's key.
PATH_LENGTH_STREAM = 3


@dataclasses.dataclass(frozen=True)
class DInputs:
    """What a discriminator penalty sees in one D update (arrays are this device's rows)."""

    critic: Callable[[Array], Array]  # D's logits of packs, through any augmentation
    fake_critic: Callable[[Array], Array]  # the same, conditioned as the fakes are
    real: Array  # real packs (single examples without packing)
    fake: Array  # fake packs
    key: Array  # the update's penalty key (per device under pmap)
    images: Array  # the real examples, unpacked
    real_logits: Array
    fake_logits: Array
    global_std: Callable[[Array], Array]  # std of all elements of the global batch's array
    mean_over_devices: Callable[[Any], Any] = lambda tree: tree
    # For consistency regularisation: the generated examples unpacked, the same fakes from
    # latents perturbed by sigma * N(0, 1) (sigma -> fakes), a key that is the same on every
    # device, this device's rows of a global-batch array, and the global batch size.
    fake_images: Array | None = None
    perturbed_fake: Callable[[float], Array] | None = None
    batch_key: Array | None = None
    local_rows: Callable[[Array], Array] = lambda x: x
    batch_size: int = 0
    packing: int = 1


def lecam_penalty(inputs: DInputs, options: Mapping[str, Any],
                  state: PyTree) -> tuple[Array, PyTree]:
    """LeCam regularisation (Tseng et al. 2021): (E (D(x) - a_F)^2 + E (D(G(z)) - a_R)^2,
    the new anchors). The anchors a_R and a_F are moving averages of D's mean logit on real and
    fake batches (over all devices, so every device holds the same), moved towards this
    update's means at rate 1 - `lecam_decay` before the penalty reads them, as the authors'
    code does; they start at 0."""
    decay = options["lecam_decay"]

    def moved(anchor, logits):
        batch_mean = inputs.mean_over_devices(jnp.mean(jax.lax.stop_gradient(logits)))
        return decay * anchor + (1.0 - decay) * batch_mean.astype(jnp.float32)

    anchors = {"real": moved(state["real"], inputs.real_logits),
               "fake": moved(state["fake"], inputs.fake_logits)}
    value = (jnp.mean(jnp.square(inputs.real_logits - anchors["fake"]))
             + jnp.mean(jnp.square(inputs.fake_logits - anchors["real"])))
    return value, anchors


# Where CR's transforms come from: this stream of the D update's batch key.
CR_STREAM = 7


def _transformed(inputs: DInputs, images: Array, transforms: str, which: int) -> Array:
    """`images` (this device's rows) under CR's transforms T, each applied, its parameters
    drawn for the global batch."""
    pipeline = ada.parse_pipeline(transforms, "loss.cr_augment")
    key = jax.random.fold_in(jax.random.fold_in(inputs.batch_key, CR_STREAM), which)
    params = ada.draw(pipeline, key, jnp.float32(1.0), inputs.batch_size, images.shape[1:])
    transformed = ada.apply(images, jax.tree.map(inputs.local_rows, params))
    return packing.pack(transformed, inputs.packing)


def consistency_real(inputs: DInputs, options: Mapping[str, Any]) -> Array:
    """CR (Zhang et al. 2020): E (D(x) - D(T(x)))^2 on the real batch."""
    transformed = _transformed(inputs, inputs.images, options["cr_augment"], 0)
    return jnp.mean(jnp.square(inputs.real_logits - inputs.critic(transformed)))


def consistency_fake(inputs: DInputs, options: Mapping[str, Any]) -> Array:
    """bCR's term on fakes (Zhao et al. 2021): E (D(G(z)) - D(T(G(z))))^2."""
    transformed = _transformed(inputs, inputs.fake_images, options["cr_augment"], 1)
    return jnp.mean(jnp.square(inputs.fake_logits - inputs.fake_critic(transformed)))


def latent_consistency_d(inputs: DInputs, options: Mapping[str, Any]) -> Array:
    """zCR's D term (Zhao et al. 2021): E (D(G(z)) - D(G(z + e)))^2, e ~ N(0, sigma^2)."""
    perturbed = packing.pack(inputs.perturbed_fake(options["zcr_sigma"]), inputs.packing)
    return jnp.mean(jnp.square(inputs.fake_logits - inputs.fake_critic(perturbed)))


def latent_diversity_g(inputs: GInputs, options: Mapping[str, Any]) -> Array:
    """zCR's G term: -E ||G(z) - G(z + e)||^2 (per-element mean), so that G keeps nearby
    latents apart."""
    perturbed = inputs.perturbed_fake(options["zcr_sigma"])
    return -jnp.mean(jnp.square(inputs.fake - perturbed))


@dataclasses.dataclass(frozen=True)
class GInputs:
    """What a generator regulariser sees in G's update."""

    generator: Any  # the Linen module
    params: PyTree
    g_state: PyTree  # G's model state, without regulariser state
    key: Array  # the G update's key
    batch_size: int  # of the global batch
    latents: Callable[[Array, int], Array]  # (key, n) -> this device's rows of n latents
    example_keys: Callable[[Array, int], Array]  # (key, n) -> this device's per-example keys
    local_rows: Callable[[Array], Array]  # this device's rows of a global-batch array
    mean_over_devices: Callable[[Any], Any]
    # For zCR: G's fakes in this update, and G's fakes from the same latents perturbed by
    # sigma * N(0, 1) (sigma -> fakes), both differentiable in `params`.
    fake: Array | None = None
    perturbed_fake: Callable[[float], Array] | None = None


def weight_matrices(params: PyTree) -> list[Array]:
    """A network's weight matrices, out x fan_in: every `kernel` of two or more dimensions
    (dense (in, out); convolution (..., in, out)), transposed; embedding tables are not
    kernels and are left out, as BigGAN leaves out its shared class embedding."""
    leaves = jax.tree_util.tree_leaves_with_path(params)
    return [leaf.reshape(-1, leaf.shape[-1]).T for path, leaf in leaves
            if getattr(path[-1], "key", None) == "kernel" and leaf.ndim >= 2]


def orthogonality(params: PyTree) -> Array:
    """BigGAN's orthogonal regulariser (Brock et al. 2019, its off-diagonal form): the sum over
    the weight matrices W of ||W W^T * (1 - I)||_F^2, zero when W's rows are orthogonal."""
    total = jnp.zeros((), jnp.float32)
    for w in weight_matrices(params):
        gram = w.astype(jnp.float32) @ w.astype(jnp.float32).T
        total += jnp.sum(jnp.square(gram * (1.0 - jnp.eye(gram.shape[0]))))
    return total


def path_length_penalty(inputs: GInputs, options: Mapping[str, Any],
                        state: PyTree) -> tuple[Array, PyTree]:
    """StyleGAN2's path-length regulariser: (mean squared deviation of this device's |J_w^T y|
    from the running mean a after this batch, {"mean": that a}). J_w is the Jacobian of the
    images with respect to ws, y Gaussian noise over 1/sqrt(pixels per channel), drawn with
    batch_size / pl_batch_shrink style-mixed latents from fold_in(G key, PATH_LENGTH_STREAM);
    a decays towards each batch's mean length at rate `pl_decay`."""
    generator = inputs.generator
    num = inputs.batch_size // options["pl_batch_shrink"]
    latent_key, noise_key = jax.random.split(jax.random.fold_in(inputs.key, PATH_LENGTH_STREAM))
    z = inputs.latents(latent_key, num)
    keys = inputs.example_keys(latent_key, num)
    variables = {"params": inputs.params, **inputs.g_state}
    ws = generator.apply(variables, z, keys,
                         method=lambda g, z, keys: g.mix(g.map(z), z, keys))
    images, pullback = jax.vjp(
        lambda ws: generator.apply(variables, ws, keys, method="synthesize"), ws)
    pixels = images.shape[1] * images.shape[2]
    noise = inputs.local_rows(jax.random.normal(noise_key, (num, *images.shape[1:]),
                                                images.dtype)) / jnp.sqrt(pixels)
    (w_grads,) = pullback(noise)
    lengths = jnp.sqrt(jnp.mean(jnp.sum(jnp.square(w_grads), axis=2), axis=1))
    batch_length = inputs.mean_over_devices(jnp.mean(lengths))
    mean_length = state["mean"]
    mean_length = mean_length + options["pl_decay"] * (jax.lax.stop_gradient(batch_length)
                                                       - mean_length)
    return jnp.mean(jnp.square(lengths - mean_length)), {"mean": mean_length}


@dataclasses.dataclass(frozen=True)
class Option:
    """A config key under `loss` that a penalty reads, and the values it accepts."""

    key: str
    accepts: Callable[[Any], bool]
    rule: str  # what `accepts` asks, for the error message


@dataclasses.dataclass(frozen=True)
class Penalty:
    """A row of the penalty table. Its weight is `loss.<weight_key>` (0: off)."""

    name: str
    weight_key: str
    player: str  # "d" or "g": whose loss it joins
    # Stateless: fn(inputs, options) -> value. With `state`: fn(inputs, options, state) ->
    # (value, new state), the state kept in the player's model state under `name`.
    fn: Callable[..., Any]
    scale: float = 1.0  # the weight's factor (R1's gamma / 2)
    # Lazy regularisation: weight * interval on every `loss.<interval_key>`-th update.
    interval_key: str | None = None
    options: tuple[Option, ...] = ()
    # Settings it cannot be combined with: "translation" (image-to-image runs), "unrolling"
    # (train.unroll_steps > 0, whose D updates take D's plain loss) and "points" (2D data).
    excludes: tuple[str, ...] = ()
    state: Callable[[], PyTree] | None = None  # its initial running state
    metrics: Callable[[PyTree], dict[str, Array]] | None = None  # logged from its state
    # Further checks against the config and device plan: check(config, plan) raises.
    check: Callable[[Any, Any], None] | None = None


def _check_path_length(config: Any, plan: Any) -> None:
    name = config.model.generator.get("name")
    if name != "stylegan" or config.model.condition != "none":
        raise ConfigError(f"loss.pl_weight: path-length regularisation needs an unconditional "
                          f"style-based generator (model.generator.name='stylegan'), not "
                          f"{name!r} with model.condition={config.model.condition!r}")
    shrink, batch = config.loss.pl_batch_shrink, config.train.batch_size
    if batch % (shrink * plan.num_replicas):
        raise ConfigError(f"loss.pl_batch_shrink: its batch, train.batch_size={batch} / "
                          f"{shrink}, must divide evenly over {plan.num_replicas} device(s)")


def _known_transforms(spec: str) -> bool:
    try:
        return bool(ada.parse_pipeline(spec, "loss.cr_augment"))
    except ConfigError:
        return False


_CR_AUGMENT = Option("cr_augment", _known_transforms,
                     "must name transforms of gan_jax.training.ada (e.g. xflip,xint)")


# The translation step and unrolled D updates take D's plain loss: D penalties are refused there.
_GAN_STEP_ONLY = ("translation", "unrolling")

# In the order their terms are added to a player's loss.
PENALTIES: tuple[Penalty, ...] = (
    Penalty("gp", "gp_weight", "d", excludes=_GAN_STEP_ONLY,
            fn=lambda x, o: gradient_penalty(x.critic, x.real, x.fake, x.key)),
    Penalty("dragan", "dragan_weight", "d", excludes=_GAN_STEP_ONLY,
            options=(Option("dragan_scale", lambda v: v > 0, "must be > 0"),),
            fn=lambda x, o: dragan_penalty(
                x.critic, x.real, jax.random.fold_in(x.key, DRAGAN_STREAM), o["dragan_scale"],
                x.global_std(x.images))),
    Penalty("r1", "r1_weight", "d", scale=0.5, interval_key="r1_interval", excludes=_GAN_STEP_ONLY,
            fn=lambda x, o: r1_penalty(x.critic, x.real)),
    # R2: R1's zero-centred penalty on the fakes (R3GAN adds gamma/2 (R1 + R2)); it shares R1's
    # lazy interval.
    Penalty("r2", "r2_weight", "d", scale=0.5, interval_key="r1_interval", excludes=_GAN_STEP_ONLY,
            fn=lambda x, o: r1_penalty(x.fake_critic, x.fake)),
    Penalty("lecam", "lecam_weight", "d", excludes=_GAN_STEP_ONLY,
            options=(Option("lecam_decay", lambda v: 0 <= v < 1, "must be in [0, 1)"),),
            fn=lecam_penalty,
            state=lambda: {"real": jnp.zeros((), jnp.float32),
                           "fake": jnp.zeros((), jnp.float32)},
            metrics=lambda state: {"d_lecam_real_anchor": state["real"],
                                   "d_lecam_fake_anchor": state["fake"]}),
    Penalty("cr", "cr_weight", "d", excludes=(*_GAN_STEP_ONLY, "points"),
            options=(_CR_AUGMENT,), fn=consistency_real),
    Penalty("bcr_fake", "bcr_fake_weight", "d", excludes=(*_GAN_STEP_ONLY, "points"),
            options=(_CR_AUGMENT,), fn=consistency_fake),
    Penalty("zcr_d", "zcr_d_weight", "d", excludes=_GAN_STEP_ONLY,
            options=(Option("zcr_sigma", lambda v: v > 0, "must be > 0"),),
            fn=latent_consistency_d),
    Penalty("zcr_g", "zcr_g_weight", "g", excludes=("translation",),
            options=(Option("zcr_sigma", lambda v: v > 0, "must be > 0"),),
            fn=latent_diversity_g),
    # scale 1/2: the gradient, 2 beta (W W^T * (1 - I)) W, is BigGAN-PyTorch's `ortho` at
    # strength beta (its G_ortho), so a weight of 1e-4 is the published setting.
    Penalty("ortho", "ortho_weight", "g", scale=0.5, excludes=("translation",),
            fn=lambda x, o: orthogonality(x.params)),
    Penalty("path_length", "pl_weight", "g", interval_key="pl_interval",
            options=(Option("pl_decay", lambda v: 0 < v <= 1, "must be in (0, 1]"),
                     Option("pl_batch_shrink", lambda v: v >= 1, "must be >= 1")),
            fn=path_length_penalty, state=lambda: {"mean": jnp.zeros((), jnp.float32)},
            metrics=lambda state: {"g_path_length": state["mean"]}, check=_check_path_length),
)


def check_ranges(loss_config: Any) -> None:
    """Raises ConfigError for a penalty weight, interval or option out of its range."""
    def require(ok: bool, key: str, rule: str) -> None:
        if not ok:
            raise ConfigError(f"loss.{key}: {rule}, got {loss_config[key]!r}")

    for row in PENALTIES:
        require(loss_config[row.weight_key] >= 0, row.weight_key, "must be >= 0 (0: off)")
        if row.interval_key:
            require(loss_config[row.interval_key] >= 1, row.interval_key,
                    f"must be >= 1 (1: every {row.player.upper()} update)")
        for option in row.options:
            require(option.accepts(loss_config[option.key]), option.key, option.rule)


def check_combinations(config: Any, plan: Any, contexts: Mapping[str, str]) -> None:
    """Raises ConfigError for an active penalty that `contexts` rule out ({setting that
    applies to this run: why, with {key} for the weight key}), or that fails its own check."""
    for row in PENALTIES:
        scheduled = (row.weight_key in config.schedules
                     and not schedules.is_off(config.schedules[row.weight_key]))
        if not (config.loss[row.weight_key] or scheduled):
            continue
        for context in row.excludes:
            if context in contexts:
                raise ConfigError(contexts[context].format(key=row.weight_key))
        if row.check is not None:
            row.check(config, plan)


@dataclasses.dataclass(frozen=True)
class ActivePenalty:
    """A penalty with a non-zero weight, and the settings it is compiled with."""

    row: Penalty
    weight: float | Array
    interval: int = 1
    options: tuple[tuple[str, Any], ...] = ()
    schedule: Callable[[Array], Array] | None = None  # Its weight by train step.

    def initial_state(self) -> PyTree:
        return None if self.row.state is None else self.row.state()

    def term(self, inputs: Any, counter: Array, state: PyTree = None,
             step: Array | None = None) -> tuple[Array, PyTree]:
        """(its weighted term, its new state) at update number `counter` of train step `step`;
        a lazy penalty is taken, times its interval, where `counter` is a multiple of it (and
        is 0 and keeps its state elsewhere). A scheduled weight is its value at `step`."""
        options = dict(self.options)
        weight = self.weight if self.schedule is None else self.schedule(step)
        coefficient = self.row.scale * weight * self.interval

        def value() -> tuple[Array, PyTree]:
            if self.row.state is None:
                return coefficient * self.row.fn(inputs, options), state
            penalty, new_state = self.row.fn(inputs, options, state)
            return coefficient * penalty, new_state

        if self.interval == 1:
            return value()
        return jax.lax.cond(counter % self.interval == 0, value,
                            lambda: (jnp.zeros((), jnp.float32), state))


def active_penalties(loss_config: Any, player: str,
                     schedules: Mapping[str, Callable[[Array], Array]] | None = None,
                     weights: Mapping[str, Any] | None = None) -> tuple[ActivePenalty, ...]:
    """The player's penalties that `loss_config` turns on (a non-zero weight, or a weight
    schedule in `schedules`, by weight key), in table order; `weights` ({weight key: traced
    value}) replaces configured weights in a vectorised run."""
    schedules, weights = schedules or {}, weights or {}
    return tuple(
        ActivePenalty(row, weights.get(row.weight_key, float(loss_config[row.weight_key])),
                      loss_config[row.interval_key] if row.interval_key else 1,
                      tuple((o.key, loss_config[o.key]) for o in row.options),
                      schedules.get(row.weight_key))
        for row in PENALTIES
        if row.player == player and (loss_config[row.weight_key] or row.weight_key in schedules))


def penalty_terms(penalties: tuple[ActivePenalty, ...], inputs: Any, counter: Array,
                  states: Mapping[str, Any], step: Array | None = None
                  ) -> tuple[Array, dict[str, Any]]:
    """(the sum of the penalties' weighted terms, in table order, at update number `counter`
    of train step `step`; the new running states of those that keep one, by name)."""
    total, new_states = jnp.zeros((), jnp.float32), {}
    for p in penalties:
        term, state = p.term(inputs, counter, states.get(p.row.name), step)
        total += term
        if p.row.state is not None:
            new_states[p.row.name] = state
    return total, new_states


def split_penalty_states(model_state: PyTree,
                         penalties: tuple[ActivePenalty, ...]) -> tuple[PyTree, dict[str, Any]]:
    """(the model state without the penalties' running states, those states by name)."""
    model_state = dict(model_state)
    states = {p.row.name: model_state.pop(p.row.name) for p in penalties if p.row.state}
    return model_state, states


def with_penalty_states(model_state: PyTree, penalties: tuple[ActivePenalty, ...],
                        states: Mapping[str, Any] | None = None) -> PyTree:
    """`model_state` with the penalties' running states (`states`, default: initial)."""
    states = states or {}
    return {**model_state, **{p.row.name: states.get(p.row.name, p.initial_state())
                              for p in penalties if p.row.state}}
