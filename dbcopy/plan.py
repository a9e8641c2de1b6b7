"""The first step of every copy: the checks made before anything is touched, and the plan the
later steps are handed (the source, open for reading; the tables, in foreign key order; the
target) so that none of them prepares again.

The pipeline, one module per step: plan -> stream (rows into PostgreSQL) -> rebuild (keys,
indexes, foreign keys) -> verify; then, online: capture (triggers on the source) -> catchup
(replay what changed) -> cutover (pause writes, replay the rest); and rollback (PostgreSQL
back into a new SQLite file). ``dbcopy.sqlite`` and ``dbcopy.postgres`` are the two engines'
sides, mirrored; ``dbcopy.steps`` runs the steps for the commands.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder

from dbcopy import postgres, sqlite
from dbcopy.exceptions import CopyRefused
from dbcopy.tables import Table, copied_tables


@dataclass
class Plan:
    """What a copy, a catch-up or a verification works on. ``source`` reads the SQLite file
    outside any transaction; each step takes its own snapshot with ``snapshot()``."""

    path: Path
    source: sqlite3.Connection
    tables: list[Table]
    target: BaseDatabaseWrapper
    by_name: dict[str, Table] = field(init=False)

    def __post_init__(self) -> None:
        self.by_name = {t.name: t for t in self.tables}

    @property
    def key(self) -> str:
        """How the target's capture mark names this source."""
        return str(self.path.resolve())

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """One read transaction on the source: every read inside sees the same state while the
        app goes on writing to the file (WAL)."""
        self.source.execute("BEGIN")
        try:
            yield self.source
        finally:
            self.source.execute("COMMIT")


@contextmanager
def prepare(path: Path | str) -> Iterator[Plan]:
    """Check the source file and the target, then open the source for the steps to come."""
    path = Path(path)
    sqlite.check_file(path)
    target = postgres.target()
    alias = sqlite.register_source_alias(path)
    try:
        check_same_migrations(alias, DEFAULT_DB_ALIAS, source_name=str(path))
    finally:
        sqlite.close_alias(alias)
    source = sqlite.open_read_only(path)
    try:
        yield Plan(path=path, source=source, tables=copied_tables(), target=target)
    finally:
        source.close()


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
    for missing, where, fix in (
        (
            source - target,
            "the source but not on the target",
            "run `manage.py migrate` on the target",
        ),
        (
            target - source,
            "the target but not on the source",
            "migrate the source (or the app serving it) to the same code",
        ),
    ):
        if missing:
            app, name = min(missing)
            raise CopyRefused(f"migration {app}.{name} is applied on {where}: {fix} first")
