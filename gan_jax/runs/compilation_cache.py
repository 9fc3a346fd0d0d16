"""JAX's persistent compilation cache: compiled programs kept on disk, so a resumed, extended or
repeated run starts without compiling again. On by default in `~/.cache/gan_jax/xla`;
JAX_COMPILATION_CACHE_DIR moves it (an empty value switches it off), and a config's
`train.compilation_cache=False` switches it off for that run. A cache entry JAX cannot read
is compiled afresh (JAX warns), so a damaged cache never breaks a run."""

from __future__ import annotations

import os

DEFAULT_DIR = "~/.cache/gan_jax/xla"
DIR_ENV = "JAX_COMPILATION_CACHE_DIR"
MAX_SIZE_BYTES = 2 << 30
# JAX's defaults would skip programs compiled in under a second: most of a small model's.
DEFAULTS = {
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    "JAX_COMPILATION_CACHE_MAX_SIZE": str(MAX_SIZE_BYTES),
}


def directory() -> str | None:
    """Where compiled programs are kept: $JAX_COMPILATION_CACHE_DIR if set (None if empty),
    else the user cache directory."""
    value = os.environ.get(DIR_ENV)
    if value is None:
        return os.path.expanduser(DEFAULT_DIR)
    return value or None


def set_environment_defaults() -> None:
    """The cache's settings as environment defaults, read when JAX is imported: call it before
    importing JAX so that every compilation, the first included, can use the cache."""
    os.environ.setdefault(DIR_ENV, directory() or "")
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)


def use_compilation_cache(enabled: bool) -> str | None:
    """Switches the cache on (in `directory()`) or off for this process's coming compilations;
    returns the directory in use, or None. JAX decides once, at its first compilation, whether
    to use a cache, so call it before compiling anything."""
    import jax

    path = directory() if enabled else None
    jax.config.update("jax_enable_compilation_cache", path is not None)
    if path is not None:
        jax.config.update("jax_compilation_cache_dir", path)
        for name, value in DEFAULTS.items():
            parse = int if name.endswith("SIZE") else float
            jax.config.update(name.lower(), parse(os.environ.get(name, value)))
    return path
