"""TensorFlow's C++ log lines, filtered by TF_CPP_MIN_LOG_LEVEL."""

from gan_jax.data.tensorflow_runtime import kept_lines

CAPTURED = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796302413.285236    4671 port.cc:153] oneDNN custom operations are on.\n"
    "W0000 00:00:1796302413.285236    4671 cpu_feature_guard.cc:1] a warning\n"
    "E0000 00:00:1796302413.285236    4671 x.cc:1] an error\n"
    "Traceback (most recent call last): a Python line\n"
)


def test_lines_below_the_level_are_dropped_and_the_rest_kept():
    lines = CAPTURED.splitlines(keepends=True)
    assert kept_lines(CAPTURED, 0) == lines
    assert kept_lines(CAPTURED, 1) == lines[2:]
    assert kept_lines(CAPTURED, 2) == lines[3:]
    assert kept_lines(CAPTURED, 3) == lines[4:]  # What is not a C++ log line always stays.
