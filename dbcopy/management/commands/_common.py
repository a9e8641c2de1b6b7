"""What the copy commands share: turning every failure into one line and a non-zero exit."""

import sqlite3
from contextlib import contextmanager

import psycopg
from django.core.management.base import CommandError
from django.db import DatabaseError

from config.commands import describe_database_error, first_line
from dbcopy.copy import CopyFailed, VerificationFailed
from dbcopy.progress import StreamProgress
from dbcopy.source import CopyRefused
from dbcopy.tables import UnsupportedColumn


@contextmanager
def one_line_errors(command, *, unchanged: str):
    try:
        yield
    except CopyRefused as exc:
        raise CommandError(str(exc)) from None
    except CopyFailed as exc:
        raise CommandError(f"{exc}; {unchanged}") from None
    except UnsupportedColumn as exc:
        raise CommandError(f"cannot copy a column of this kind: {exc}") from None
    except VerificationFailed as exc:
        for failure in exc.failures:
            command.stderr.write(f"  {failure}")
        raise CommandError(
            f"verification failed ({len(exc.failures)} problem(s)); {unchanged}"
        ) from None
    except (DatabaseError, psycopg.Error, sqlite3.Error) as exc:
        if command.show_traceback:
            raise
        raise CommandError(f"database error: {describe_database_error(exc)}; {unchanged}") from None
    except OSError as exc:
        if command.show_traceback:
            raise
        raise CommandError(f"{first_line(exc)}; {unchanged}") from None


def progress_for(command):
    stream = command.stdout._out
    return StreamProgress(command.stdout, is_tty=hasattr(stream, "isatty") and stream.isatty())


def report_verification(command, report) -> None:
    for check in report.tables:
        command.stdout.write(f"  {check.describe()}")
    command.stdout.write(
        f"verified {len(report.tables)} tables, {report.rows:,} rows in {report.seconds:.1f} s"
    )
