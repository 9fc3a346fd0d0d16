"""Data sources, chosen by `config.data.name`.

A data source exposes `example_shape` and `sample(key, num)`; synthetic sources draw samples
on device inside the train step. Builders take the other `config.data` fields as keyword
arguments, so their signatures define which keys a data config may hold.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from gan_jax.data import mixtures
from gan_jax.registry import ConfigError, Registry, check_kwargs

DATASETS: Registry[Callable[..., Any]] = Registry("dataset")
DATASETS.register("ring")(mixtures.ring)
DATASETS.register("grid")(mixtures.grid)


def build_dataset(data_config: Any) -> Any:
    """Builds the data source named by `data_config.name` from the remaining fields."""
    kwargs = dict(data_config)
    if "name" not in kwargs:
        raise ConfigError(f"data.name: missing (known: {', '.join(DATASETS.names())})")
    builder = DATASETS.get(kwargs.pop("name"), key="data.name")
    hints = typing.get_type_hints(builder)
    fields = {p: hints.get(p, Any) for p in inspect.signature(builder).parameters}
    check_kwargs("data", f"dataset {data_config.name!r}", kwargs, fields)
    return builder(**kwargs)
