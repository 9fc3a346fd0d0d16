"""Generator and discriminator families, chosen by `config.model.{generator,discriminator}.name`.

A family is a Linen module registered under a name. Its dataclass fields are its config: the
other keys of the config section are passed to the constructor, checked against the fields
and their types. `output_shape`, `num_classes`, `bn_axis_name` and `dtype` are derived from the
data, the conditioning, the device plan and `train.precision`, never set in a config.

Modules are called as `module(x, labels=None, train=...)`: a family that can be conditioned on
class labels has a `num_classes` field (see `gan_jax.models.conditioning`).
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

import jax.numpy as jnp
from flax import linen as nn

from gan_jax.config.registry import ConfigError, Registry, check_kwargs
from gan_jax.models.biggan import BigGANDiscriminator, BigGANGenerator
from gan_jax.models.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_jax.models.layers import ACTIVATIONS
from gan_jax.models.mlp import MLPDiscriminator, MLPGenerator
from gan_jax.models.pix2pix import PatchDiscriminator, UNetGenerator
from gan_jax.models.r3gan import R3GANDiscriminator, R3GANGenerator
from gan_jax.models.resnet import ResNetDiscriminator, ResNetGenerator
from gan_jax.models.stylegan import StyleGANDiscriminator, StyleGANGenerator

GENERATORS: Registry[type[nn.Module]] = Registry("generator")
DISCRIMINATORS: Registry[type[nn.Module]] = Registry("discriminator")
GENERATORS.register("mlp")(MLPGenerator)
DISCRIMINATORS.register("mlp")(MLPDiscriminator)
GENERATORS.register("dcgan")(DCGANGenerator)
DISCRIMINATORS.register("dcgan")(DCGANDiscriminator)
GENERATORS.register("resnet")(ResNetGenerator)
DISCRIMINATORS.register("resnet")(ResNetDiscriminator)
GENERATORS.register("stylegan")(StyleGANGenerator)
DISCRIMINATORS.register("stylegan")(StyleGANDiscriminator)
GENERATORS.register("r3gan")(R3GANGenerator)
GENERATORS.register("biggan")(BigGANGenerator)
DISCRIMINATORS.register("biggan")(BigGANDiscriminator)
DISCRIMINATORS.register("r3gan")(R3GANDiscriminator)
# Image-to-image (model.condition="image"): G reads an image, D judges (output, input) pairs.
GENERATORS.register("unet")(UNetGenerator)
DISCRIMINATORS.register("patch")(PatchDiscriminator)

DERIVED_FIELDS = ("output_shape", "bn_axis_name", "num_classes", "dtype")
_FLAX_FIELDS = ("parent", "name")


def config_fields(module_cls: type[nn.Module]) -> dict[str, Any]:
    """The module's settable fields and their types (Flax bookkeeping and derived ones excluded)."""
    hints = typing.get_type_hints(module_cls)
    return {
        f.name: hints.get(f.name, Any)
        for f in dataclasses.fields(module_cls)
        if f.init and f.name not in _FLAX_FIELDS + DERIVED_FIELDS
    }


def _translates(registry: Registry, name: str) -> bool:
    return getattr(registry.get(name), "translates", False)


def _build(registry: Registry, config: Any, section: str, translation: bool = False,
           **derived: Any) -> nn.Module:
    kwargs = dict(config)
    if "name" not in kwargs:
        raise ConfigError(f"{section}.name: missing (known: {', '.join(registry.names())})")
    cls = registry.get(kwargs.pop("name"), key=f"{section}.name")
    if getattr(cls, "translates", False) != translation:
        wanted = [n for n in registry.names() if _translates(registry, n) == translation]
        raise ConfigError(
            f"{section}.name: {config['name']!r} is "
            + ("not an image-to-image family" if translation else
               "an image-to-image family (model.condition='image')")
            + f"; families for this run: {', '.join(wanted)}")
    for key in DERIVED_FIELDS:
        if key in kwargs:
            hints = {"num_classes": "; set model.condition='class' and model.num_classes",
                     "dtype": "; set train.precision"}
            raise ConfigError(f"{section}.{key}: derived, not set in a model section"
                              + hints.get(key, ""))
    # Integer fields are positive sizes, except those a family lists as taking 0 (checked
    # by the family itself).
    zero_ok = getattr(cls, "zero_allowed", ())
    check_kwargs(section, cls.__name__, {k: v for k, v in kwargs.items() if k not in zero_ok},
                 config_fields(cls))
    check_kwargs(section, cls.__name__, {k: v for k, v in kwargs.items() if k in zero_ok},
                 config_fields(cls), positive_ints=False)
    fields = {f.name for f in dataclasses.fields(cls)}
    if derived.get("num_classes") and "num_classes" not in fields:
        raise ConfigError(f"{section}.name: {config['name']!r} cannot be conditioned on class "
                          "labels (model.condition='class'); families that can: "
                          f"{', '.join(n for n in registry.names() if _conditional(registry, n))}")
    dtype = derived.pop("dtype", jnp.float32)
    if dtype != jnp.float32:
        if "dtype" not in fields:
            raise ConfigError(
                f"train.precision: {config['name']!r} ({section}) computes in float32 only; "
                "families that take bfloat16: "
                f"{', '.join(n for n in registry.names() if _has_field(registry, n, 'dtype'))}")
        derived["dtype"] = dtype
    derived = {k: v for k, v in derived.items()
               if (k in fields or k == "output_shape") and (k != "num_classes" or v)}
    module = cls(**kwargs, **derived)
    # Resolve names such as the activation now, so a typo fails before any compilation.
    if hasattr(module, "activation"):
        ACTIVATIONS.get(module.activation, key=f"{section}.activation")
    if hasattr(module, "check_config"):
        module.check_config()
    return module


def _has_field(registry: Registry, name: str, field: str) -> bool:
    return field in {f.name for f in dataclasses.fields(registry.get(name))}


def _conditional(registry: Registry, name: str) -> bool:
    return _has_field(registry, name, "num_classes")


def build_generator(config: Any, example_shape: tuple[int, ...],
                    bn_axis_name: str | None = None, num_classes: int = 0,
                    translation: bool = False, dtype: Any = jnp.float32) -> nn.Module:
    """`bn_axis_name`: the pmap axis for cross-device BatchNorm (modules that have one);
    `num_classes` > 0 builds the class-conditional G(z, y); `translation` an image-to-image
    G(a) (families with `translates = True`); `dtype` the computation dtype (parameters and
    statistics stay float32)."""
    return _build(GENERATORS, config, "model.generator", translation,
                  output_shape=tuple(example_shape), bn_axis_name=bn_axis_name,
                  num_classes=num_classes, dtype=dtype)


def build_discriminator(config: Any, bn_axis_name: str | None = None,
                        num_classes: int = 0, translation: bool = False,
                        dtype: Any = jnp.float32) -> nn.Module:
    return _build(DISCRIMINATORS, config, "model.discriminator", translation,
                  bn_axis_name=bn_axis_name, num_classes=num_classes, dtype=dtype)
