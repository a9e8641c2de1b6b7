"""Opening the SQLite file the copy reads (or the rollback writes), and the checks made on it
before anything is touched."""

import sqlite3
from pathlib import Path

from django.db import connections
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import load_backend
from django.utils.connection import ConnectionDoesNotExist

from config.database import DB_COPY_SOURCE, sqlite_config

SQLITE_HEADER = b"SQLite format 3\x00"


class CopyRefused(Exception):
    """A reason not to start, said in one line; nothing has been changed."""


def check_sqlite_file(path: Path) -> None:
    if not path.exists():
        raise CopyRefused(f"{path}: no such file")
    if not path.is_file():
        raise CopyRefused(f"{path}: not a file")
    with path.open("rb") as fh:
        if fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise CopyRefused(f"{path}: not a SQLite database")


def open_read_only(path: Path) -> sqlite3.Connection:
    """A plain connection that cannot write: values come back as SQLite stored them."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    conn.execute("PRAGMA query_only = ON")
    return conn


def open_writable(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=20)
    conn.execute("PRAGMA busy_timeout = 20000")
    return conn


def register_sqlite_alias(alias: str, path: Path, *, read_only: bool) -> str:
    """Open a SQLite file as a database alias of this thread. The copy source is read-only:
    SQLite opens it with mode=ro, and the router never migrates or writes it.

    The alias is a dynamic connection (not added to settings.DATABASES), as Django's test
    framework expects of connections made at run time."""
    config = sqlite_config(path)
    if read_only:
        config["NAME"] = f"{path.resolve().as_uri()}?mode=ro"
        config["OPTIONS"] = {}
    config = connections.configure_settings({"default": {}, alias: config})[alias]
    close_alias(alias)
    connections[alias] = load_backend(config["ENGINE"]).DatabaseWrapper(config, alias)
    return alias


def close_alias(alias: str) -> None:
    try:
        existing = connections[alias]
    except ConnectionDoesNotExist:
        return
    existing.close()
    del connections[alias]


def register_source_alias(path: Path) -> str:
    return register_sqlite_alias(DB_COPY_SOURCE, path, read_only=True)


def applied_migrations(alias: str) -> set[tuple[str, str]]:
    recorder = MigrationRecorder(connections[alias])
    if not recorder.has_table():
        return set()
    return set(recorder.applied_migrations())


def check_same_migrations(source_alias: str, target_alias: str, *, source_name: str) -> None:
    """Refuse unless both databases have applied exactly the same migrations."""
    source = applied_migrations(source_alias)
    if not source:
        raise CopyRefused(f"{source_name} has no applied migrations: not a database of this app")
    target = applied_migrations(target_alias)
    missing_in_target = sorted(source - target)
    if missing_in_target:
        app, name = missing_in_target[0]
        raise CopyRefused(
            f"migration {app}.{name} is applied on the source but not on the target: "
            "run `manage.py migrate` on the target first"
        )
    missing_in_source = sorted(target - source)
    if missing_in_source:
        app, name = missing_in_source[0]
        raise CopyRefused(
            f"migration {app}.{name} is applied on the target but not on the source: "
            "migrate the source (or the app serving it) to the same code first"
        )
