"""The persistent compilation cache: on by default, switched off by config, and robust to a
damaged entry. Runs train in fresh processes, since JAX decides on the cache once a process."""

import json
import os
import subprocess
import sys

from gan_jax.runs import compilation_cache
from tests.test_cli import REPO, _train_args

CACHE_SUFFIX = "-cache"  # JAX's name for an entry's file.


def _train(workdir, cache_dir, *extra):
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=str(cache_dir))
    done = subprocess.run(_train_args(str(workdir), 50, *extra), capture_output=True,
                          text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def _entries(cache_dir):
    if not os.path.isdir(cache_dir):
        return []
    return sorted(os.path.join(cache_dir, f) for f in os.listdir(cache_dir)
                  if f.endswith(CACHE_SUFFIX))


def test_directory_follows_the_environment(monkeypatch):
    monkeypatch.delenv(compilation_cache.DIR_ENV, raising=False)
    assert compilation_cache.directory() == os.path.expanduser(compilation_cache.DEFAULT_DIR)
    monkeypatch.setenv(compilation_cache.DIR_ENV, "/somewhere")
    assert compilation_cache.directory() == "/somewhere"
    monkeypatch.setenv(compilation_cache.DIR_ENV, "")
    assert compilation_cache.directory() is None


def test_switched_off_by_config_used_by_default_and_a_damaged_entry_is_recompiled(tmp_path):
    cache = tmp_path / "cache"
    _train(tmp_path / "off", cache, "--config.train.compilation_cache=False")
    assert _entries(cache) == []

    cold, _ = _train(tmp_path / "on", cache)
    entries = _entries(cache)
    assert entries, "a run with the default config wrote no compiled program"
    for path in entries:  # Every entry damaged: none can be read back.
        with open(path, "wb") as f:
            f.write(b"not a compiled program")

    warm, log = _train(tmp_path / "damaged", cache)
    assert warm == cold  # Same seed, same numbers: the damaged entries were compiled afresh.
    assert "Error reading persistent compilation cache entry" in log


def test_importing_the_library_compiles_nothing(tmp_path):
    # A program compiled at import would fix JAX's cache choice before a config is read.
    cache = tmp_path / "cache"
    walk = ("import pkgutil, importlib, gan_jax, configs\n"
            "for package in (gan_jax, configs):\n"
            "    for m in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
            "        importlib.import_module(m.name)\n")
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=str(cache),
               JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0")
    done = subprocess.run([sys.executable, "-c", walk], capture_output=True, text=True,
                          timeout=300, env=env, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert _entries(cache) == []
