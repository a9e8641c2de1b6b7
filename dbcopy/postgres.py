"""The PostgreSQL side of a copy, mirrored by ``dbcopy.sqlite``: the target and its
transaction, counting and reading a table's rows, the table's checksum (summed in SQL where
the canonical text is built in SQL) and the hashes of rows by key, and the search for a value
SQLite cannot hold. ``pg`` is the psycopg connection under Django's target connection, in the
transaction ``target_transaction`` opened."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from dbcopy.checksums import canonical_select, pg_hash_sql, row_bytes, row_hash
from dbcopy.chunks import FETCH_ROWS, PG_ARRAY_TYPES, key_chunks
from dbcopy.exceptions import BadValue, CopyRefused
from dbcopy.kinds import pg_problem
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


def read_rows(pg, table: Table) -> Iterator[list]:
    """The table's rows in batches, each value as Django stores it in SQLite (built by
    PostgreSQL), through a server-side cursor."""
    selects = ", ".join(c.value_kind.pg_to_sqlite_select(quote(c.name)) for c in table.columns)
    with pg.cursor(name=f"read_{table.name}") as cursor:
        cursor.itersize = FETCH_ROWS
        cursor.execute(f"SELECT {selects} FROM {quote(table.name)}")
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
            cursor.execute(
                f"SELECT {pk}::text, {select} FROM {quote(table.name)} "
                f"WHERE {pk} = ANY(%s::{PG_ARRAY_TYPES[table.pk_kind]})",
                [[str(k) for k in chunk]],
            )
            for row in cursor.fetchall():
                hashes[table.key_text(row[0])] = row_hash(row_bytes(row[1], row[2:], others))
    return hashes


def bad_value(pg, table: Table, keys=None) -> BadValue | None:
    """The first value of the table (among ``keys`` if given) that has no SQLite form Django
    reads back (infinite or BC times, NaN)."""
    checked = [(c, sql) for c in table.columns if (sql := pg_problem(c))]
    if not checked:
        return None
    pk = quote(table.pk)
    problems = ", ".join(f"{sql}, {quote(c.name)}::text" for c, sql in checked)
    with pg.cursor() as cursor:
        chunks: Iterable[list | None] = [None] if keys is None else key_chunks(keys)
        for chunk in chunks:
            where = ""
            params = []
            if chunk is not None:
                where = f" AND {pk} = ANY(%s::{PG_ARRAY_TYPES[table.pk_kind]})"
                params = [[str(k) for k in chunk]]
            cursor.execute(
                f"SELECT {pk}::text, {problems} FROM {quote(table.name)}"
                f" WHERE coalesce({', '.join(sql for _, sql in checked)}, NULL) IS NOT NULL"
                f"{where} ORDER BY {pk} LIMIT 1",
                params,
            )
            found = cursor.fetchone()
            if found:
                for i, (column, _) in enumerate(checked):
                    why, value = found[1 + 2 * i], found[2 + 2 * i]
                    if why is not None:
                        return BadValue(table.name, table.pk, column.name, found[0], value, why)
    return None
