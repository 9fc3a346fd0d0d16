"""The config: its schema and validation, config files and overrides, error messages with
did-you-mean suggestions, and the name -> object registries that models, losses, data and
optimizers plug into.

User config files start from `base_config()`:

    from gan_jax.config import base_config
"""

from gan_jax.config.errors import (
    SYNONYMS,
    ConfigError,
    check_value,
    closest_keys,
    did_you_mean,
    unknown_key_message,
)
from gan_jax.config.schema import (
    BATCH_NORM_MODES,
    CONDITIONS,
    FAKE_LABELS,
    FREE_FORM_SECTIONS,
    INPUT_MODES,
    LATENT_DISTRIBUTIONS,
    PARALLEL_MODES,
    PATH_KEYS,
    PRECISIONS,
    RESUMABLE_KEYS,
    ConfigDict,
    absolute_paths,
    apply_overrides,
    base_config,
    check_structure,
    flatten,
    from_json,
    load_config_file,
    optimizer_config,
    resume_conflicts,
    sections,
    to_json,
    validate,
    with_defaults,
    with_seed,
)

__all__ = [
    "BATCH_NORM_MODES", "CONDITIONS", "FAKE_LABELS", "FREE_FORM_SECTIONS", "INPUT_MODES",
    "LATENT_DISTRIBUTIONS", "PARALLEL_MODES", "PATH_KEYS", "PRECISIONS", "RESUMABLE_KEYS",
    "SYNONYMS", "ConfigDict", "ConfigError", "absolute_paths", "apply_overrides",
    "base_config", "check_structure", "check_value", "closest_keys", "did_you_mean",
    "flatten", "from_json", "load_config_file", "optimizer_config", "resume_conflicts",
    "sections", "to_json", "unknown_key_message", "validate", "with_defaults", "with_seed",
]
