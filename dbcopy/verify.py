"""The verify step: row counts and an order-independent checksum per table, compared between
a SQLite file and PostgreSQL, then the invariants (``dbcopy.invariants``) on the database
that was written.

The checksum of a table is the sum of a 64-bit hash of each row's canonical text (see
``dbcopy.checksums``), so it does not depend on row order. A thread reads and hashes the SQLite
side while PostgreSQL sums its side in SQL and checks the invariants, in the transaction of
the connection given (so a copy verifies what it is about to commit).
"""

import sqlite3
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from dbcopy import invariants, postgres, sqlite
from dbcopy.progress import Progress, SilentProgress
from dbcopy.tables import Table


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


@dataclass(frozen=True)
class SourceSums:
    """The SQLite side of a verification under way in a thread: ``sqlite_sums_of()``'s
    future, and each table's row count (for the progress)."""

    future: Future[list[tuple[int, int]]]
    rows: dict[str, int]


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


def sqlite_sums_of(
    conn: sqlite3.Connection, tables: list[Table], progress: Progress | None = None
) -> list[tuple[int, int]]:
    """(rows, checksum) of each table in SQLite. A copy starts this in a thread as soon as
    the rows are streamed, so that Python hashes the source while PostgreSQL rebuilds the
    indexes and sums its side."""
    progress = progress or SilentProgress()
    total = sum(sqlite.count(conn, t) for t in tables)
    progress.start("verifying", total, "rows")
    done = 0

    def on_rows(n: int) -> None:
        nonlocal done
        done += n
        progress.update(done)

    sums = [sqlite.table_sum(conn, table, on_rows) for table in tables]
    progress.finish()
    return sums


def verify_tables(
    sqlite_conn: sqlite3.Connection,
    pg,
    tables: list[Table],
    *,
    target_alias: str,
    sqlite_alias: str | None = None,
    sqlite_is_source: bool = True,
    source_sums: SourceSums | None = None,
    progress: Progress | None = None,
) -> VerifyReport:
    """Compare every table. ``pg`` is the psycopg connection of Django's ``target_alias``
    (PostgreSQL), whose invariants are checked; ``sqlite_alias`` names the SQLite file too
    when it was written (a rollback), so its invariants are checked as well.
    ``source_sums``: the SQLite side, already under way in a thread on this same snapshot;
    PostgreSQL is summed meanwhile."""
    progress = progress or SilentProgress()
    started = time.monotonic()
    if source_sums is not None:
        # The source is being read already: the progress follows PostgreSQL's tables.
        progress.start("verifying", sum(source_sums.rows.values()), "rows")
        pg_sums, done = [], 0
        for table in tables:
            pg_sums.append(postgres.table_sum(pg, table))
            done += source_sums.rows[table.name]
            progress.update(done)
        # PostgreSQL checks the invariants while the thread finishes the source's side.
        failures = invariants.check(target_alias, tables)
        sqlite_sums = source_sums.future.result()
        progress.finish()
    else:
        with ThreadPoolExecutor(max_workers=1) as pool:
            sqlite_future = pool.submit(sqlite_sums_of, sqlite_conn, tables, progress)
            pg_sums = []
            for table in tables:
                if sqlite_future.done() and sqlite_future.exception() is not None:
                    break  # a wrong value in SQLite: said below, no need to finish PostgreSQL
                pg_sums.append(postgres.table_sum(pg, table))
            failures = invariants.check(target_alias, tables)  # while the thread finishes
            sqlite_sums = sqlite_future.result()
    if sqlite_alias is not None:
        failures += invariants.check(sqlite_alias, tables)
    checks = []
    for table, sqlite_sum, pg_sum in zip(tables, sqlite_sums, pg_sums, strict=True):
        source, target = (sqlite_sum, pg_sum) if sqlite_is_source else (pg_sum, sqlite_sum)
        check = TableCheck(table.name, source[0], target[0], source[1], target[1])
        if check.source_rows == check.target_rows and not check.ok:
            # When the checksums differ, a wrong value in the source explains it best.
            if sqlite_is_source:
                bad = sqlite.bad_value(sqlite_conn, table)
            else:
                bad = postgres.bad_value(pg, table)
            if bad is not None:
                raise bad
        checks.append(check)
    return VerifyReport(
        tables=checks, invariant_failures=failures, seconds=time.monotonic() - started
    )


def verify_rows(
    sqlite_conn,
    pg,
    tables_by_name: dict[str, Table],
    changes: dict,
    *,
    sqlite_is_source: bool = True,
) -> list[str]:
    """Compare just the rows with these keys, as SQLite holds them (a catch-up's changes);
    returns the failures. A wrong value on the source's side explains a difference best."""
    failures = []
    for name, keys in changes.items():
        table = tables_by_name[name]
        source = sqlite.row_hashes(sqlite_conn, table, keys)
        target = postgres.row_hashes(pg, table, keys)
        if source != target:
            if sqlite_is_source:
                bad = sqlite.bad_value(sqlite_conn, table, keys)
            else:
                bad = postgres.bad_value(pg, table, keys)
            if bad is not None:
                raise bad
            differing = sorted(set(source.items()) ^ set(target.items()))
            failures.append(f"{name}: {len(differing)} changed row(s) differ after the catch-up")
    return failures
