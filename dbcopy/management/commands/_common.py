"""What the copy commands share: turning every failure into one line and a non-zero exit."""

from contextlib import contextmanager

from django.conf import settings
from django.core.management.base import CommandError

from dbcopy.exceptions import (
    BadValue,
    CopyFailed,
    CopyRefused,
    MoveStuck,
    UnsupportedColumn,
    VerificationFailed,
)
from dbcopy.progress import StreamProgress
from ops.commands import Stopped, environment_errors, stop_reason


@contextmanager
def one_line_errors(command, *, unchanged: str):
    try:
        with environment_errors(command, suffix=f"; {unchanged}"):
            yield
    except (CopyRefused, MoveStuck) as exc:
        raise CommandError(str(exc)) from None
    except (Stopped, KeyboardInterrupt) as exc:
        if command.show_traceback:
            raise
        raise CommandError(f"{stop_reason(exc)}; {unchanged}") from None
    except (CopyFailed, BadValue) as exc:
        raise CommandError(f"{exc}; {unchanged}") from None
    except UnsupportedColumn as exc:
        raise CommandError(f"cannot copy a column of this kind: {exc}") from None
    except VerificationFailed as exc:
        for failure in exc.failures:
            command.stderr.write(f"  {failure}")
        raise CommandError(
            f"verification failed ({len(exc.failures)} problem(s)); {unchanged}"
        ) from None


def add_progress_argument(parser) -> None:
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="plain progress lines on stderr instead of bars redrawn in place",
    )


def progress_for(command, *, no_progress: bool = False):
    """Progress on the command's stderr: bars on a terminal, plain lines otherwise."""
    return StreamProgress(command.stderr, is_tty=command.stderr.isatty() and not no_progress)


def report_verification(command, report) -> None:
    for check in report.tables:
        command.stdout.write(f"  {check.describe()}")
    command.stdout.write(
        f"verified {len(report.tables)} tables, {report.rows:,} rows in {report.seconds:.1f} s"
    )


def held(moved) -> str:
    """What a move's hold meant for clients, in a sentence's end."""
    bound = settings.CUTOVER_HOLD_SECONDS
    said = f"requests were held for {moved.held_seconds:.2f} s (hold written to hold lifted)"
    if moved.held_seconds <= bound:
        return f"{said}, within CUTOVER_HOLD_SECONDS ({bound} s): none refused"
    return f"{said}: those held over CUTOVER_HOLD_SECONDS ({bound} s) were refused with 503"
