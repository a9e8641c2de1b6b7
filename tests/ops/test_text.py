"""The one line an error is told in (commands, logs, readiness), whatever its message."""

import pytest

from ops.text import first_line


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (
            ValueError('relation "x" does not exist\nLINE 1: SELECT\nHINT: ...'),
            'relation "x" does not exist',
        ),
        (OSError("  disk full  \n"), "disk full"),
        # An empty message (some drivers' errors) is named by its type, never an IndexError.
        (ConnectionError(""), "ConnectionError"),
        (TimeoutError("\n  \n"), "TimeoutError"),
    ],
)
def test_an_error_is_told_in_its_first_line(error, line):
    assert first_line(error) == line
