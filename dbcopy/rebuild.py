"""The rebuild step: constraints and indexes set aside before the rows stream in and rebuilt
after them, the tables emptied, the sequences moved past the copied ids. PostgreSQL's DDL is
transactional: all of it is the copy's one transaction."""

from dataclasses import dataclass

import psycopg
from django.apps import apps
from django.core.management.color import no_style

from dbcopy.exceptions import CopyFailed
from dbcopy.sql import quote
from dbcopy.tables import Table


@dataclass(frozen=True)
class Deferred:
    """DDL to recreate what was dropped, in the order it must run."""

    keys: list[str]  # primary keys and unique constraints
    indexes: list[str]
    foreign_keys: list[str]


def drop_constraints_and_indexes(cursor, tables: list[Table]) -> Deferred:
    """Drop every foreign key, primary key, unique constraint and index of the tables and
    return the DDL that rebuilds them exactly (same names, same deferral). Check constraints
    stay: they cost little per row."""
    names = [t.name for t in tables]
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, c.contype,
               pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('f', 'p', 'u')
        ORDER BY c.contype, c.conrelid::regclass::text, c.conname
        """,
        [names],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        [names],
    )
    indexes = cursor.fetchall()

    def add(table, name, definition):
        return f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"

    foreign_keys = [c for c in constraints if c[2] == "f"]
    keys = [c for c in constraints if c[2] in ("p", "u")]
    for table, name, _, _ in foreign_keys + keys:
        cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return Deferred(
        keys=[add(t, n, d) for t, n, _, d in keys],
        indexes=[definition for _, definition in indexes],
        foreign_keys=[add(t, n, d) for t, n, _, d in foreign_keys],
    )


def rebuild(cursor, deferred: Deferred, progress=None) -> None:
    """Rebuild keys, then indexes, then foreign keys (each validated in one pass)."""
    statements = deferred.keys + deferred.indexes + deferred.foreign_keys
    if progress is not None:
        progress.start("rebuilding keys, indexes, foreign keys", len(statements), "steps")
    for done, statement in enumerate(statements, start=1):
        try:
            cursor.execute(statement)
        except psycopg.IntegrityError as exc:
            # A hand-edited source: a row pointing at no parent, a key held twice. PostgreSQL
            # names the table and the key.
            detail = (exc.diag.message_detail or "").rstrip(".")
            raise CopyFailed(f"{exc.diag.message_primary}: {detail}") from None
        if progress is not None:
            progress.update(done)
    if progress is not None:
        progress.finish()


def truncate(cursor, names: list[str]) -> None:
    if names:
        cursor.execute("TRUNCATE " + ", ".join(quote(n) for n in names))


def reset_sequences(connection, tables: list[Table]) -> None:
    """Move each id sequence past the highest copied id, as loaddata does."""
    by_table = {m._meta.db_table: m for m in apps.get_models(include_auto_created=True)}
    models = [by_table[t.name] for t in tables if t.name in by_table]
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
