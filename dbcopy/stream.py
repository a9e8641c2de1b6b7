"""The stream step: rows read from SQLite go into PostgreSQL through COPY, each value
converted where COPY's input differs from what SQLite holds (``dbcopy.kinds``). A row
PostgreSQL refuses is named by table, column and key, searched for in the source.

psycopg's queued writer sends to the server from a thread of its own while this one reads
and converts the next rows; into a table emptied in the same transaction, ``COPY ... FREEZE``
writes the rows already frozen, so the first reads after the load (the rebuild, the
verification) do not rewrite every page to set hint bits."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.copy import QueuedLibpqWriter

from dbcopy import sqlite
from dbcopy.chunks import FETCH_ROWS, key_chunks, pg_keys_in
from dbcopy.exceptions import CopyFailed
from dbcopy.progress import Progress
from dbcopy.sql import quote
from dbcopy.tables import Table
from ops.text import first_line


def _copy_statement(table: Table, *, freeze: bool = False) -> str:
    columns = ", ".join(quote(c) for c in table.column_names)
    return f"COPY {quote(table.name)} ({columns}) FROM STDIN" + (" (FREEZE)" if freeze else "")


def converters_of(table: Table) -> list:
    """(column index, conversion) of each column whose SQLite value COPY cannot take as it is."""
    return [(i, f) for i, c in enumerate(table.columns) if (f := c.value_kind.to_postgres)]


def converted(batch: list, converters: list) -> list:
    """The rows of ``batch`` as COPY takes them (the batch itself when nothing converts)."""
    if not converters:
        return batch
    rows = [list(row) for row in batch]
    for row in rows:
        for i, convert in converters:
            row[i] = convert(row[i])
    return rows


def _copy_rows(
    cursor, table: Table, rows, progress: Progress, total: int, done: int = 0, emptied=False
) -> int:
    """COPY the selected rows into the table; returns how many (``done`` counts earlier
    chunks of the same table, for the progress display). ``emptied``: the table was
    truncated in this transaction, so the rows go in frozen."""
    started = done
    converters = converters_of(table)
    writer = QueuedLibpqWriter(cursor) if emptied else None  # a whole table: worth a thread
    with cursor.copy(_copy_statement(table, freeze=emptied), writer=writer) as copy:
        write_row = copy.write_row
        while batch := rows.fetchmany(FETCH_ROWS):
            for row in converted(batch, converters):
                write_row(row)
            done += len(batch)
            progress.rows(table.name, done, total)
    return done - started


@contextmanager
def refused_rows(source: sqlite3.Connection, table: Table, keys=None) -> Iterator[None]:
    """A row PostgreSQL refused (a value of the wrong type, a NUL character, a number out of
    range): name the value by table, column and key, searched for in the source."""
    try:
        yield
    except (psycopg.DataError, psycopg.IntegrityError, sqlite3.OperationalError) as exc:
        if isinstance(exc, sqlite3.OperationalError) and "decode" not in str(exc):
            raise  # only a text that does not decode, met while reading the rows
        bad = sqlite.bad_value(source, table, keys)
        if bad is not None:
            raise bad from None
        if not isinstance(exc, psycopg.DataError):
            raise
        raise CopyFailed(f"{table.name}: {first_line(exc)}") from exc


def copy_table(source: sqlite3.Connection, cursor, table: Table, progress: Progress) -> int:
    """Every row of the table, into a table emptied in this transaction; returns how many."""
    total = sqlite.count(source, table)
    progress.table_started(table.name, total)
    with refused_rows(source, table):
        done = _copy_rows(
            cursor, table, sqlite.select_rows(source, table), progress, total, emptied=True
        )
    progress.table_done(table.name)
    return done


def copy_keys(source: sqlite3.Connection, cursor, table: Table, keys: list, progress) -> int:
    """The rows with these keys that the source still has; returns how many."""
    progress.table_started(table.name, len(keys))
    written = 0
    for chunk in key_chunks(keys):
        rows = sqlite.select_rows(source, table, chunk)
        with refused_rows(source, table, chunk):
            written += _copy_rows(cursor, table, rows, progress, len(keys), done=written)
    progress.table_done(table.name)
    return written


def delete_keys(cursor, table: Table, keys: list) -> None:
    for chunk in key_chunks(keys):
        where, params = pg_keys_in(table, chunk)
        cursor.execute(f"DELETE FROM {quote(table.name)} WHERE {where}", params)
