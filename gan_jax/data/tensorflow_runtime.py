"""TensorFlow (and TFDS), imported once with its C++ start-up INFO lines dropped.

TensorFlow reads TF_CPP_MIN_LOG_LEVEL for its C++ logs, but once jaxlib's libraries are loaded
(every gan_jax command imports JAX first) its start-up lines reach stderr whatever the level:
`oneDNN custom operations are on ...`, twice, after absl's notice that logging is not yet
initialised. `import_tensorflow` imports it with stderr (the file descriptor, where C++ writes)
captured, and passes on every captured line that the level lets through.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from types import ModuleType

# glog/absl line prefixes: I (info), W (warning), E (error), F (fatal), then MMDD.
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}
_PREFIX = re.compile(r"^([IWEF])\d{4} ")
_ABSL_NOTICE = "WARNING: All log messages before absl::InitializeLog() is called"


def kept_lines(text: str, min_level: int) -> list[str]:
    """The lines of captured stderr that TF_CPP_MIN_LOG_LEVEL=`min_level` shows."""
    kept = []
    for line in text.splitlines(keepends=True):
        match = _PREFIX.match(line)
        if match and _SEVERITY[match.group(1)] < min_level:
            continue
        if line.startswith(_ABSL_NOTICE) and min_level > 0:
            continue
        kept.append(line)
    return kept


@contextlib.contextmanager
def _filtered_stderr(min_level: int) -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode(errors="replace")
            sys.stderr.write("".join(kept_lines(text, min_level)))
            sys.stderr.flush()


def import_tensorflow() -> ModuleType:
    """`import tensorflow`, with the C++ lines below TF_CPP_MIN_LOG_LEVEL dropped."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    level = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0")
    min_level = int(level) if level.isdigit() else 0
    if min_level == 0:
        import tensorflow

        return tensorflow
    with _filtered_stderr(min_level):
        import tensorflow
    return tensorflow


def import_tfds() -> ModuleType:
    """`import tensorflow_datasets`, which imports TensorFlow: quietly, as `import_tensorflow`."""
    import_tensorflow()
    import tensorflow_datasets

    return tensorflow_datasets
