"""Data sources, chosen by `config.data.name`.

`ring` and `grid` are 2D Gaussian mixtures, `image_folder` reads a folder of images,
`stacked_mnist` stacks three MNIST digits as RGB (1,000 modes), `aligned_folder`,
`paired_folders`, `edges2mnist`, `edges2fashion` and `inpaint_fashion` hold image pairs for
translation (see `gan_jax.data.paired`), and any other name is looked up in TensorFlow
Datasets (`mnist`, `fashion_mnist`, `cifar10`, `celeb_a`, ...). A data source has `kind`
("points", "images" or "pairs"), `example_shape`,
`device_data(shuffle_key, batch_size)` (the arrays the train step reads, placed on device)
and `sample(data, key, batch_index, num)`, which the step calls on device. Builders take the
other `config.data` fields as keyword arguments, so their signatures define which keys a data
config may hold.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from gan_jax.config.registry import ConfigError, Registry, check_kwargs, did_you_mean
from gan_jax.data import images, mixtures, paired
from gan_jax.data.tensorflow_runtime import import_tfds

shapes_only = images.shapes_only

DATASETS: Registry[Callable[..., Any]] = Registry("dataset")
DATASETS.register("ring")(mixtures.ring)
DATASETS.register("grid")(mixtures.grid)
DATASETS.register("image_folder")(images.image_folder)
DATASETS.register("stacked_mnist")(images.stacked_mnist)
for _name in ("aligned_folder", "paired_folders", "edges2mnist", "edges2fashion",
              "inpaint_fashion"):
    DATASETS.register(_name)(getattr(paired, _name))


def build_dataset(data_config: Any) -> Any:
    """Builds the data source named by `data_config.name` from the remaining fields.

    Images are not read yet: that happens in `device_data`, after the models are built.
    """
    kwargs = dict(data_config)
    if "name" not in kwargs:
        raise ConfigError(f"data.name: missing (known: {', '.join(DATASETS.names())}, or any "
                          "TFDS image dataset)")
    name = kwargs.pop("name")
    if name in DATASETS:
        builder, description = DATASETS.get(name, key="data.name"), f"dataset {name!r}"
    else:
        _check_tfds_name(name)
        builder, description = images.tfds_images, f"TFDS dataset {name!r}"
        kwargs["name"] = name
    hints = typing.get_type_hints(builder)
    fields = {p: hints.get(p, Any) for p in inspect.signature(builder).parameters}
    fields.pop("name", None)
    # Datasets check their own ranges: 0 means "native" for image sizes and channels.
    check_kwargs("data", description, {k: v for k, v in kwargs.items() if k != "name"}, fields,
                 positive_ints=False)
    return builder(**kwargs)


def _check_tfds_name(name: str) -> None:
    tfds = import_tfds()

    try:
        tfds.builder_cls(name.split(":")[0].split("/")[0])
    except tfds.core.registered.DatasetNotFoundError:
        known = DATASETS.names() + list(tfds.list_builders(with_community_datasets=False))
        raise ConfigError(f"data.name: unknown dataset {name!r}{did_you_mean(name, known)} "
                          f"(gan_jax: {', '.join(DATASETS.names())}; or any TFDS image "
                          "dataset)") from None
