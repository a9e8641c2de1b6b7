"""SQLite as django-prometheus instruments it, with the database file created readable and
writable by its owner only: journals are private, and SQLite gives the ``-wal`` and ``-shm``
files it makes beside the database the database file's mode."""

import contextlib
import os
from pathlib import Path

from django.utils.functional import cached_property
from django_prometheus.db.backends.sqlite3 import base
from django_prometheus.db.common import ExportingCursorWrapper

OWNER_ONLY = 0o600


class DatabaseFeatures(base.DatabaseFeatures):
    """The same features as the instrumented backend."""


class DatabaseWrapper(base.DatabaseWrapper):
    # Set by ``ops.transactions.write_transaction`` for the one BEGIN it is about to issue.
    begin_deferred = False

    def get_new_connection(self, conn_params):
        create_owner_only(conn_params["database"])
        return super().get_new_connection(conn_params)

    @cached_property
    def _counting_cursor_class(self):
        """django-prometheus's counting cursor class for this alias, made once: its
        ``create_cursor`` makes a new class for every cursor (a class statement each time,
        about 4 % of a journal write's CPU under gunicorn)."""
        return ExportingCursorWrapper(self.CURSOR_CLASS, self.alias, self.vendor)

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=self._counting_cursor_class)

    def _start_transaction_under_autocommit(self):
        """Django's ``BEGIN``, in the ``DEFERRED`` mode of Django's own ``transaction_mode``
        when asked for (the transaction takes the write lock with its first write statement),
        else in the configured one (``IMMEDIATE``: the lock at once)."""
        if not self.begin_deferred:
            return super()._start_transaction_under_autocommit()
        configured, self.transaction_mode = self.transaction_mode, "DEFERRED"
        try:
            return super()._start_transaction_under_autocommit()
        finally:
            self.transaction_mode = configured


def create_owner_only(name) -> None:
    """Create the database file at ``name`` with mode 0600 if there is none yet (an empty
    file is an empty SQLite database). In-memory databases and URIs are left to SQLite; an
    existing file keeps the mode its owner gave it."""
    name = str(name)
    if name == ":memory:" or name.startswith("file:"):
        return
    path = Path(name)
    if not path.parent.is_dir():
        return  # SQLite reports it: "unable to open database file"
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY))
