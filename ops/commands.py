"""The base of the project's management commands: a failure of what the command runs against
(the database unreachable or not migrated, a file that cannot be written) ends in one line
on stderr and a non-zero exit, never a traceback. ``--traceback`` still shows it."""

import signal
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections

from ops.health import direct_connection
from ops.text import first_line


def describe_database_error(exc: BaseException) -> str:
    """One line for a database error. A failed connection (a pool that timed out only says how
    long it waited): one direct connection attempt to each PostgreSQL database finds out which
    one and why."""
    reason = first_line(exc)
    if not reason.startswith(("couldn't get a connection", "connection failed:")):
        return reason
    for alias in connections:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        try:
            direct_connection(alias).close()
        except psycopg.Error as direct:
            return f"cannot connect to the {alias} database: {first_line(direct)}"
        except Exception:  # noqa: BLE001 (only a better message was at stake)
            return reason
    return reason


@contextmanager
def environment_errors(command, *, suffix: str = ""):
    """Database and file errors as one ``CommandError`` line (``suffix`` appended), unless
    the command runs with ``--traceback``."""
    try:
        yield
    except (DatabaseError, psycopg.Error, sqlite3.Error) as exc:
        if command.show_traceback:
            raise
        reason = f"database error: {describe_database_error(exc)}"
        raise CommandError(reason + suffix) from None
    except OSError as exc:
        if command.show_traceback:
            raise
        raise CommandError(first_line(exc) + suffix) from None


class Stopped(BaseException):
    """A signal asked the command to stop (SIGTERM from a service manager, SIGHUP from a
    closed terminal). Raised where the command runs, as Ctrl-C's KeyboardInterrupt is, so that
    every cleanup on the way out runs as it does for an error: a transaction rolled back,
    maintenance turned off again, a move moved back. Not an ``Exception``: nothing that handles
    errors may swallow it."""

    def __init__(self, signum: int) -> None:
        self.signal_name = signal.Signals(signum).name
        super().__init__(f"stopped by {self.signal_name}")


def stop_reason(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, Stopped) else "interrupted (Ctrl-C)"


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@contextmanager
def stop_signals_raise() -> Iterator[None]:
    """SIGTERM and SIGHUP raise ``Stopped`` for the block (signals reach the main thread only;
    elsewhere, as in a test's thread, they keep their handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise Stopped(signum)

    previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class OperatorCommand(BaseCommand):
    """Subclasses implement ``handle_command`` (as Django's ``LabelCommand`` subclasses
    implement ``handle_label``); ``handle`` runs it with its errors turned into one line."""

    # Set from --traceback: the original error is then raised as it is.
    show_traceback = False

    def handle(self, *args, **options):
        self.show_traceback = bool(options.get("traceback"))
        try:
            with stop_signals_raise(), environment_errors(self):
                return self.handle_command(*args, **options)
        except (Stopped, KeyboardInterrupt) as exc:
            if self.show_traceback:
                raise
            raise CommandError(stop_reason(exc)) from None

    def handle_command(self, *args, **options):
        raise NotImplementedError("subclasses of OperatorCommand must provide handle_command()")
