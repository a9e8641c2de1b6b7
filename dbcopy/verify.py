"""Verification: row counts and an order-independent checksum per table, compared between a
SQLite file and PostgreSQL, plus the invariants the app relies on.

The checksum of a table is the sum of a 64-bit hash of each row's canonical text (see
``dbcopy.values``), so it does not depend on row order. PostgreSQL computes its side in SQL
while Python reads the SQLite side, at the same time.
"""

import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from dbcopy import invariants
from dbcopy.diagnose import bad_value_in_postgres, bad_value_in_sqlite
from dbcopy.progress import Progress, SilentProgress
from dbcopy.tables import Table
from dbcopy.values import (
    FETCH_ROWS,
    KEY_CHUNK,
    PG_ARRAY_TYPES,
    BadValue,
    canonical_select,
    pg_hash_sql,
    quote,
    row_bytes,
    row_hash,
)


@dataclass(frozen=True)
class TableCheck:
    table: str
    source_rows: int
    target_rows: int
    source_sum: int
    target_sum: int

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sum == self.target_sum

    def describe(self) -> str:
        if self.ok:
            return f"{self.table}: {self.source_rows} rows match"
        if self.source_rows != self.target_rows:
            return (
                f"{self.table}: {self.source_rows} rows in the source, "
                f"{self.target_rows} in the target"
            )
        return f"{self.table}: same row count ({self.source_rows}) but the content differs"


@dataclass
class VerifyReport:
    tables: list[TableCheck]
    invariant_failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables) and not self.invariant_failures

    @property
    def rows(self) -> int:
        return sum(t.source_rows for t in self.tables)

    def failures(self) -> list[str]:
        return [t.describe() for t in self.tables if not t.ok] + self.invariant_failures


def _sqlite_table_sum(conn: sqlite3.Connection, table: Table, on_rows=lambda n: None):
    select, others = canonical_select(table, "sqlite")
    cursor = conn.execute(f"SELECT {select} FROM {quote(table.name)}")
    count = total = 0
    with _unreadable_values(conn, table):
        while rows := cursor.fetchmany(FETCH_ROWS):
            count += len(rows)
            on_rows(len(rows))
            if others:
                total += sum(row_hash(row_bytes(r[0], r[1:], others)) for r in rows)
            else:
                total += sum(row_hash(r[0]) for r in rows)
    return count, total


@contextmanager
def _unreadable_values(conn, table: Table, keys=None):
    """A SQLite value the canonical text cannot be built from (JSON that does not parse):
    the first wrong value of the table, named."""
    try:
        yield
    except (ValueError, TypeError, ArithmeticError):
        bad = bad_value_in_sqlite(conn, table, keys)
        if bad is None:
            raise
        raise bad from None


def _differing_value(sqlite_conn, pg, table: Table, *, sqlite_is_source: bool, keys=None):
    """When a table's checksums differ, a wrong value in the source explains it best."""
    if sqlite_is_source:
        return bad_value_in_sqlite(sqlite_conn, table, keys)
    return bad_value_in_postgres(pg, table, keys)


def _pg_table_sum(pg, table: Table):
    select, others = canonical_select(table, "postgresql")
    with pg.cursor() as cursor:
        if not others:
            cursor.execute(
                f"SELECT count(*), coalesce(sum({pg_hash_sql(select)}), 0) FROM {quote(table.name)}"
            )
            count, total = cursor.fetchone()
            return count, int(total)
    count = total = 0
    with pg.cursor(name=f"verify_{table.name}") as cursor:
        cursor.itersize = FETCH_ROWS
        cursor.execute(f"SELECT {select} FROM {quote(table.name)}")
        for row in cursor:
            count += 1
            total += row_hash(row_bytes(row[0], row[1:], others))
    return count, total


def verify_tables(
    sqlite_conn: sqlite3.Connection,
    pg,
    tables: list[Table],
    *,
    sqlite_is_source=True,
    progress: Progress | None = None,
):
    """Compare every table; ``pg`` is a raw psycopg connection (its transaction is used as
    it is, so a copy verifies what it is about to commit)."""
    progress = progress or SilentProgress()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as pool:
        # PostgreSQL's side (sums in SQL, then the invariants) runs while Python reads SQLite.
        pg_sums = [pool.submit(_pg_table_sum, pg, table) for table in tables]
        pg_invariants = pool.submit(invariants.check_postgres, pg, tables)
        try:
            total = sum(
                sqlite_conn.execute(f"SELECT count(*) FROM {quote(t.name)}").fetchone()[0]
                for t in tables
            )
            progress.start("verifying", total, "rows")
            done = 0

            def on_rows(n: int) -> None:
                nonlocal done
                done += n
                progress.update(done)

            sqlite_sums = [_sqlite_table_sum(sqlite_conn, table, on_rows) for table in tables]
        except BadValue:
            for future in [*pg_sums, pg_invariants]:
                future.cancel()
            raise
        failures = [] if sqlite_is_source else invariants.check_sqlite(sqlite_conn, tables)
        checks = []
        for table, sqlite_sum, pg_future in zip(tables, sqlite_sums, pg_sums, strict=True):
            pg_sum = pg_future.result()
            source, target = (sqlite_sum, pg_sum) if sqlite_is_source else (pg_sum, sqlite_sum)
            check = TableCheck(table.name, source[0], target[0], source[1], target[1])
            if check.source_rows == check.target_rows and not check.ok:
                bad = _differing_value(sqlite_conn, pg, table, sqlite_is_source=sqlite_is_source)
                if bad is not None:
                    raise bad
            checks.append(check)
        progress.finish()
        report = VerifyReport(tables=checks, invariant_failures=pg_invariants.result() + failures)
    report.seconds = time.monotonic() - started
    return report


def _key(table: Table, value) -> str:
    text = str(value)
    return text.replace("-", "") if table.pk_kind == "uuid" else text


def _row_hashes_sqlite(conn, table: Table, keys: list) -> dict:
    select, others = canonical_select(table, "sqlite")
    hashes = {}
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = keys[start : start + KEY_CHUNK]
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT {quote(table.pk)}, {select} FROM {quote(table.name)} "
            f"WHERE {quote(table.pk)} IN ({marks})",
            chunk,
        )
        with _unreadable_values(conn, table, chunk):
            for row in rows:
                hashes[_key(table, row[0])] = row_hash(row_bytes(row[1], row[2:], others))
    return hashes


def _row_hashes_pg(pg, table: Table, keys: list) -> dict:
    select, others = canonical_select(table, "postgresql")
    pk = quote(table.pk)
    hashes = {}
    with pg.cursor() as cursor:
        for start in range(0, len(keys), KEY_CHUNK):
            cursor.execute(
                f"SELECT {pk}::text, {select} FROM {quote(table.name)} "
                f"WHERE {pk} = ANY(%s::{PG_ARRAY_TYPES[table.pk_kind]})",
                [[str(k) for k in keys[start : start + KEY_CHUNK]]],
            )
            for row in cursor.fetchall():
                hashes[_key(table, row[0])] = row_hash(row_bytes(row[1], row[2:], others))
    return hashes


def verify_rows(sqlite_conn, pg, tables_by_name: dict[str, Table], changes: dict) -> list[str]:
    """Compare just the rows with these keys (a catch-up's changes); returns the failures."""
    failures = []
    for name, keys in changes.items():
        table = tables_by_name[name]
        source = _row_hashes_sqlite(sqlite_conn, table, keys)
        target = _row_hashes_pg(pg, table, keys)
        if source != target:
            bad = bad_value_in_sqlite(sqlite_conn, table, keys)
            if bad is not None:
                raise bad
            differing = sorted(set(source.items()) ^ set(target.items()))
            failures.append(f"{name}: {len(differing)} changed row(s) differ after the catch-up")
    return failures
