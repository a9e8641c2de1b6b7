"""The PostgreSQL side of a copy, mirrored by ``dbcopy.sqlite``: the target and its
transaction, counting and reading a table's rows, the table's checksum (summed in SQL where
the canonical text is built in SQL) and the hashes of rows by key, and the search for a value
SQLite cannot hold. ``pg`` is the psycopg connection under Django's target connection, in the
transaction ``target_transaction`` opened."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from dbcopy.checksums import canonical_select, pg_hash_sql, row_bytes, row_hash
from dbcopy.chunks import FETCH_ROWS, key_chunks, pg_keys_in
from dbcopy.exceptions import BadValue, CopyRefused
from dbcopy.problems import POSTGRES, sql_problems
from dbcopy.sql import quote
from dbcopy.tables import MIGRATE_CREATED_TABLES, Table


def target() -> BaseDatabaseWrapper:
    """The configured database, which a copy writes (or a rollback reads): PostgreSQL."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        raise CopyRefused(
            f"the target must be PostgreSQL (set DATABASE_URL), not {connection.vendor}"
        )
    return connection


@contextmanager
def target_transaction(connection: BaseDatabaseWrapper, *, snapshot: bool = False) -> Iterator:
    """One transaction on the target database, yielding its psycopg connection: no statement
    timeout (a copy runs for minutes), times in UTC and ISO (the checksums' text). Django's
    ORM on the same alias and thread runs inside it. ``snapshot``: read-only and REPEATABLE
    READ, so every read sees the same state."""
    with transaction.atomic(using=connection.alias):
        connection.ensure_connection()
        pg = connection.connection
        with pg.cursor() as cursor:
            if snapshot:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SET LOCAL statement_timeout = 0")
            cursor.execute("SET LOCAL TIME ZONE 'UTC'")
            cursor.execute("SET LOCAL DateStyle = 'ISO, YMD'")
        yield pg


def non_empty_tables(connection: BaseDatabaseWrapper, tables: list[Table]) -> list[str]:
    """Tables holding rows, apart from those `migrate` fills by itself."""
    names = [t.name for t in tables if t.name not in MIGRATE_CREATED_TABLES]
    if not names:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            " UNION ALL ".join(f"SELECT %s WHERE EXISTS (SELECT 1 FROM {quote(n)})" for n in names),
            names,
        )
        return [row[0] for row in cursor.fetchall()]


def count(pg, table: Table) -> int:
    with pg.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {quote(table.name)}")
        return int(cursor.fetchone()[0])


def read_rows(pg, table: Table, keys: list | None = None) -> Iterator[list]:
    """The table's rows (only those with these keys, given as text, if any) in batches, each
    value as Django stores it in SQLite (built by PostgreSQL), through a server-side cursor
    for a whole table."""
    selects = ", ".join(c.value_kind.pg_to_sqlite_select(quote(c.name)) for c in table.columns)
    select = f"SELECT {selects} FROM {quote(table.name)}"
    if keys is not None:
        with pg.cursor() as cursor:
            for chunk in key_chunks(keys):
                where, params = pg_keys_in(table, chunk)
                cursor.execute(f"{select} WHERE {where}", params)
                yield cursor.fetchall()
        return
    with pg.cursor(name=f"read_{table.name}") as cursor:
        cursor.itersize = FETCH_ROWS
        cursor.execute(select)
        while batch := cursor.fetchmany(FETCH_ROWS):
            yield batch


def table_sum(pg, table: Table) -> tuple[int, int]:
    """(rows, checksum) of the table, the same sum as ``dbcopy.sqlite.table_sum``'s: in one
    SQL statement when every column's canonical text is built in SQL."""
    select, others = canonical_select(table, "postgresql")
    if not others:
        with pg.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*), coalesce(sum({pg_hash_sql(select)}), 0) FROM {quote(table.name)}"
            )
            rows, total = cursor.fetchone()
            return rows, int(total)
    rows = total = 0
    with pg.cursor(name=f"verify_{table.name}") as cursor:
        cursor.itersize = FETCH_ROWS
        cursor.execute(f"SELECT {select} FROM {quote(table.name)}")
        for row in cursor:
            rows += 1
            total += row_hash(row_bytes(row[0], row[1:], others))
    return rows, total


def row_hashes(pg, table: Table, keys: list) -> dict[str, int]:
    """The hash of each row with one of these keys, by key as text."""
    select, others = canonical_select(table, "postgresql")
    pk = quote(table.pk)
    hashes = {}
    with pg.cursor() as cursor:
        for chunk in key_chunks(keys):
            where, params = pg_keys_in(table, chunk)
            cursor.execute(
                f"SELECT {pk}::text, {select} FROM {quote(table.name)} WHERE {where}", params
            )
            for row in cursor.fetchall():
                hashes[table.key_text(row[0])] = row_hash(row_bytes(row[1], row[2:], others))
    return hashes


def bad_value(pg, table: Table, keys=None) -> BadValue | None:
    """The first value of the table (among ``keys`` if given) that has no SQLite form Django
    reads back (infinite or BC times, NaN)."""
    with pg.cursor() as cursor:
        return next(sql_problems(cursor, POSTGRES, table, keys, limit=1), None)
