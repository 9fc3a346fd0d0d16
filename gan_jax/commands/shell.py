"""What every gan-* command shares: its usage text and flags, `--help` before JAX or
TensorFlow is imported, one-line errors naming the culprit, and the exit statuses: 2 for
bad input, 1 for a failed run, 130 for an interrupt (`--debug` or GAN_JAX_DEBUG=1 shows the
traceback instead)."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import sys
from collections.abc import Callable

from absl import app, flags, logging

from gan_jax.config import ConfigError, flatten, load_config_file, unknown_key_message
from gan_jax.runs import compilation_cache

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
DEBUG_ENV = "GAN_JAX_DEBUG"
DOCS = "docs/"
# Errors that mean the user asked for something impossible (exit 2, not 1).
BAD_INPUT_ERRORS = (ConfigError, FileNotFoundError, NotADirectoryError, IsADirectoryError,
                    PermissionError)
# Python loggers that warn about things a CPU user cannot change (no GPU found, ...).
QUIET_LOGGERS = ("jax._src.xla_bridge", "absl", "tensorflow", "orbax")


@dataclasses.dataclass(frozen=True)
class Usage:
    """What `--help` says about a command."""

    synopsis: str
    summary: str  # Two lines: what the command does.
    examples: tuple[str, ...]
    docs: str  # The page that explains it.
    positional: str = ""  # e.g. "DIR": one required positional argument.
    config_overrides: bool = False  # Takes --config.KEY=VALUE overrides.


class Command:
    """The flags one command defines, its help, and the error handling around its main."""

    def __init__(self, name: str, usage: Usage):
        self.name, self.usage = name, usage
        self._before = set(flags.FLAGS)
        self.debug = flags.DEFINE_bool(
            "debug", os.environ.get(DEBUG_ENV, "") not in ("", "0"),
            f"Show the full traceback of an error (also: {DEBUG_ENV}=1).")

    def own_flags(self) -> list[str]:
        """This command's flags, in definition order, --debug last."""
        if not hasattr(self, "_own"):
            self._own = [n for n in flags.FLAGS if n not in self._before and n != "debug"]
        return [*self._own, "debug"]

    def help_text(self) -> str:
        u = self.usage
        lines = [f"usage: {self.name} {u.synopsis}", "", u.summary, "", "flags:"]
        for name in self.own_flags():
            flag = flags.FLAGS[name]
            default = flag.default
            if isinstance(default, list):
                default = ",".join(map(str, default))
            required = name in _REQUIRED
            note = " (required)" if required else (
                f" (default: {default!r})" if default not in (None, "", False) else "")
            lines.append(f"  --{name:<20} {' '.join(flag.help.split())}{note}")
            if name == "config" and u.config_overrides:
                lines.append(f"  --{'config.KEY=VALUE':<20} Override any field of the config, "
                             "e.g. --config.optim.d.lr=3e-4")
        lines.append(f"  --{'verbosity':<20} 1 shows the libraries' INFO logs (default: "
                     "warnings and errors only)")
        lines += ["", "examples:", *(f"  {example}" for example in u.examples), "",
                  f"More: {u.docs}; --helpfull lists every flag."]
        return "\n".join(lines)

    def parse(self, argv: list[str]) -> list[str]:
        if any(a in ("-h", "--help", "--helpshort", "-help") for a in argv[1:]):
            print(self.help_text())
            sys.exit(0)
        if "--helpfull" in argv[1:]:
            print(flags.FLAGS.get_help())
            sys.exit(0)
        debug = "--debug" in argv or self.debug.default
        try:
            if self.usage.config_overrides:
                check_config_args(argv)
            return flags.FLAGS(argv)
        except ConfigError as e:
            fail(str(e))
        except flags.Error as e:
            if debug:
                raise
            fail(flag_error(str(e)))
        return []  # Unreachable.

    def run(self, main: Callable[..., None], interrupted: Callable[[], str] | None = None
            ) -> None:
        self.own_flags()  # Before absl adds its own help flags.

        def wrapped(argv: list[str]) -> None:
            quiet_libraries()
            compilation_cache.set_environment_defaults()  # Before JAX is imported.
            positional = argv[1:]
            wanted = 1 if self.usage.positional else 0
            if len(positional) != wanted:
                if positional:
                    fail(f"unexpected argument{'s' if len(positional) > 1 else ''}: "
                          f"{' '.join(positional)}; see {self.name} --help")
                fail(f"missing {self.usage.positional}; usage: {self.name} "
                      f"{self.usage.synopsis}")
            try:
                main(*positional)
            except KeyboardInterrupt:
                fail(interrupted() if interrupted else "interrupted", EXIT_INTERRUPTED)
            except Exception as e:  # noqa: BLE001 - one line for users; --debug re-raises.
                if self.debug.value:
                    raise
                bad_input = isinstance(e, BAD_INPUT_ERRORS)
                if bad_input or type(e).__name__ == "NonFiniteLossError":  # Self-explaining.
                    message = one_line(e)
                else:
                    message = (f"{type(e).__name__}: {one_line(e)} (add --debug for the "
                               "traceback)")
                fail(message, EXIT_BAD_INPUT if bad_input else EXIT_FAILED)

        app.run(wrapped, flags_parser=self.parse)


_REQUIRED: set[str] = set()


def require(*names: str) -> None:
    """Flags that must be given; checked by `missing` after parsing (absl's own check would
    print a multi-line message)."""
    _REQUIRED.update(names)


def missing(name: str, command: str, synopsis: str) -> None:
    if flags.FLAGS[name].value in (None, ""):
        fail(f"--{name} is required; usage: {command} {synopsis}")


def fail(message: str, status: int = EXIT_BAD_INPUT) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(status)


def one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


def quiet_libraries() -> None:
    """Warnings and errors only, unless --verbosity was given."""
    if flags.FLAGS["verbosity"].present:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Before TensorFlow is imported.
    logging.set_verbosity(logging.WARNING)
    import logging as python_logging

    for name in QUIET_LOGGERS:
        python_logging.getLogger(name).setLevel(python_logging.ERROR)


def flag_error(message: str) -> str:
    """absl's message about a flag value, as one line naming the flag."""
    match = re.match(r"flag (--[\w.]+)=(.*?): (.*)", message, re.S)
    if match:
        flag, value, reason = match.groups()
        return f"{flag}: cannot use {value!r} ({' '.join(reason.split())})"
    return " ".join(message.split()).replace("Unknown command line flag", "unknown flag")


def config_spec(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
        if arg == "--config" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def check_config_args(argv: list[str]) -> None:
    """Loads the config file once and checks every --config.KEY override names a real key,
    so mistakes get one line with the closest key's full path."""
    spec = config_spec(argv)
    overrides = [a for a in argv if a.startswith("--config.")]
    if spec is None:
        if overrides:
            raise ConfigError(f"{overrides[0].split('=')[0]} needs --config FILE")
        return
    config = load_config_file(spec)
    known = list(flatten(config))
    for item in overrides:
        key = item[len("--config."):].split("=", 1)[0]
        if key not in known:
            raise ConfigError(unknown_key_message(key, known, "unknown config key"))


def parse_overrides(argv: list[str]) -> tuple[list[str], dict[str, object]]:
    """Splits `--config.KEY=VALUE` items off argv: (the rest, {KEY: value}), values read as
    Python literals where they parse (3e-4, 5, True, (64, 64)), else as strings."""
    rest, overrides = [], {}
    for item in argv:
        if not item.startswith("--config."):
            rest.append(item)
            continue
        key, sep, text = item[len("--config."):].partition("=")
        if not sep:
            raise ConfigError(f"--config.{key}: give a value, as --config.{key}=VALUE")
        lowered = {"true": "True", "false": "False", "none": "None"}.get(text.lower(), text)
        try:
            overrides[key] = ast.literal_eval(lowered)
        except (ValueError, SyntaxError):
            overrides[key] = text
    return rest, overrides


def print_json(results: object) -> None:
    print(json.dumps(results, indent=2))
