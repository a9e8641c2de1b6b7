"""PostgreSQL -> a new SQLite file: the way back after a cutover, so writes made on
PostgreSQL survive a rollback. The file gets its schema from the migrations, then every row
as Django would have stored it in SQLite, then the same verification as a forward copy."""

import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.management import call_command

from dbcopy import pg_capture, postgres
from dbcopy.chunks import key_chunks, sqlite_keys_in
from dbcopy.exceptions import CopyFailed, CopyRefused, VerificationFailed
from dbcopy.progress import Progress, SilentProgress
from dbcopy.routers import ROLLBACK_TARGET
from dbcopy.sql import quote
from dbcopy.sqlite import close_alias, open_read_only, open_writable, register_sqlite_alias
from dbcopy.steps import CopyReport
from dbcopy.tables import Table, copied_tables
from dbcopy.verify import verify_rows, verify_tables


def _create_owner_only(path: Path) -> None:
    """The new file, readable by its owner only (SQLite gives its -wal and -shm files the same
    mode), made here and nowhere else: never through a link, never over a file that appeared
    since the checks."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        raise CopyRefused(f"{path} already exists: the rollback copy writes a new file") from None
    except OSError as exc:
        raise CopyRefused(f"{path}: {exc.strerror}") from None
    os.close(fd)


def copy_postgres_to_sqlite(path, *, progress: Progress | None = None) -> CopyReport:
    """Write every table of the configured PostgreSQL database into a new SQLite file."""
    path = Path(path)
    create_rollback_file(path, progress=progress)
    try:
        return fill_rollback_file(path, progress=progress)
    except BaseException:
        remove_rollback_file(path)
        raise


def create_rollback_file(path: Path, *, progress: Progress | None = None) -> None:
    """The new file with the schema of the migrations and no rows (what ``migrate`` writes is
    replaced by the fill); nothing is left behind when this fails."""
    progress = progress or SilentProgress()
    if path.is_symlink():
        raise CopyRefused(f"{path} is a symbolic link: the rollback copy writes a new file")
    if path.exists():
        raise CopyRefused(f"{path} already exists: the rollback copy writes a new file")
    if not path.parent.is_dir():
        raise CopyRefused(f"{path.parent}: no such directory")
    postgres.target()
    _create_owner_only(path)
    try:
        progress.message(f"creating {path} with the migrations")
        register_sqlite_alias(ROLLBACK_TARGET, path, read_only=False)
        try:
            call_command("migrate", database=ROLLBACK_TARGET, verbosity=0, interactive=False)
        finally:
            close_alias(ROLLBACK_TARGET)
    except BaseException:
        remove_rollback_file(path)
        raise


def remove_rollback_file(path: Path) -> None:
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)


def fill_rollback_file(path: Path, *, progress: Progress | None = None) -> CopyReport:
    """Every row of PostgreSQL, one snapshot, into the file ``create_rollback_file`` made, in
    one SQLite transaction, then compared with that snapshot. The report's mark is that
    snapshot, where a catch-up (``catch_up_back``) starts when PostgreSQL's changes are
    captured (``dbcopy.pg_capture``)."""
    progress = progress or SilentProgress()
    tables = copied_tables()
    started = time.monotonic()
    rows = 0
    # One consistent snapshot of PostgreSQL for the copy and its verification.
    with _from_a_snapshot(path) as (writer, pg, mark):
        writer.execute("BEGIN IMMEDIATE")
        for table in reversed(tables):
            writer.execute(f"DELETE FROM {quote(table.name)}")  # what migrate made
        for table in tables:
            rows += _copy_table(pg, writer, table, progress)
        writer.execute("COMMIT")
        copy_seconds = time.monotonic() - started
        reader = open_read_only(path)
        register_sqlite_alias(ROLLBACK_TARGET, path, read_only=True)
        try:
            report = verify_tables(
                reader,
                pg,
                tables,
                target_alias=postgres.target().alias,
                sqlite_alias=ROLLBACK_TARGET,
                sqlite_is_source=False,
                progress=progress,
            )
        finally:
            close_alias(ROLLBACK_TARGET)
            reader.close()
    if not report.ok:
        raise VerificationFailed(report.failures())
    return CopyReport(
        tables=len(tables), rows=rows, seconds=copy_seconds, verification=report, mark=mark
    )


@contextmanager
def _from_a_snapshot(path: Path) -> Iterator[tuple[sqlite3.Connection, Any, str]]:
    """The rollback file opened for writing (closing it rolls back what was not committed),
    and one snapshot of PostgreSQL, with its mark (``pg_capture.current_snapshot``)."""
    writer = open_writable(path)
    try:
        with postgres.target_transaction(postgres.target(), snapshot=True) as pg:
            yield writer, pg, pg_capture.current_snapshot(pg)
    finally:
        writer.close()


def _insert_statement(table: Table) -> str:
    columns = ", ".join(quote(c) for c in table.column_names)
    marks = ", ".join("?" * len(table.columns))
    return f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})"


def _insert_rows(writer, table: Table, batches: Iterable[list]) -> Iterator[int]:
    """Each batch of rows read from PostgreSQL into the table; yields the batch's size."""
    insert = _insert_statement(table)
    converters = [(i, f) for i, c in enumerate(table.columns) if (f := c.value_kind.to_sqlite)]
    for batch in batches:
        if converters:
            batch = [list(row) for row in batch]
            for row in batch:
                for i, convert in converters:
                    row[i] = convert(row[i])
        writer.executemany(insert, batch)
        yield len(batch)


def _copy_table(pg, writer, table: Table, progress: Progress) -> int:
    # PostgreSQL holds values SQLite's text forms cannot say (infinite or BC times): they would
    # be written as something else and read back the same way, so they are looked for first.
    bad = postgres.bad_value(pg, table)
    if bad is not None:
        raise bad
    total = postgres.count(pg, table)
    progress.table_started(table.name, total)
    done = 0
    for rows in _insert_rows(writer, table, postgres.read_rows(pg, table)):
        done += rows
        progress.rows(table.name, done, total)
    progress.table_done(table.name)
    return done


@dataclass
class BackRound:
    """One catch-up of the rollback file: what changed on PostgreSQL between two snapshots."""

    changed_keys: int
    upserted: int
    deleted: int
    seconds: float
    mark: str  # the later snapshot: where the next round starts


def _sqlite_key(table: Table, text: str):
    """A key PostgreSQL's change table holds as text, as SQLite holds it."""
    return int(text) if table.pk_kind == "int" else table.key_text(text)


def catch_up_back(path: Path, *, since: str) -> BackRound:
    """Replay into the rollback file what PostgreSQL's captured changes say changed after the
    snapshot ``since``: each changed key's row as it is in a new snapshot, or no row where
    PostgreSQL has none, in one SQLite transaction; the replayed rows are then compared with
    that snapshot. The app may go on writing PostgreSQL meanwhile."""
    by_name = {t.name: t for t in copied_tables()}
    started = time.monotonic()
    upserted = 0
    with _from_a_snapshot(path) as (writer, pg, mark):
        captured = pg_capture.changed_keys(pg, since=since)
        unknown = sorted(set(captured) - set(by_name))
        if unknown:
            raise CopyFailed(f"changes captured for tables this app does not have: {unknown}")
        # Each key as SQLite holds it (PostgreSQL reads those forms too).
        changes = {
            name: [_sqlite_key(by_name[name], k) for k in keys] for name, keys in captured.items()
        }
        writer.execute("BEGIN IMMEDIATE")
        for name, keys in changes.items():
            table = by_name[name]
            for chunk in key_chunks(keys):
                where, params = sqlite_keys_in(table, chunk)
                writer.execute(f"DELETE FROM {quote(table.name)} WHERE {where}", params)
        for name, keys in changes.items():
            rows = postgres.read_rows(pg, by_name[name], keys)
            upserted += sum(_insert_rows(writer, by_name[name], rows))
        writer.execute("COMMIT")
        failures = verify_rows(writer, pg, by_name, changes, sqlite_is_source=False)
    if failures:
        raise VerificationFailed(failures)
    changed = sum(len(k) for k in changes.values())
    return BackRound(changed, upserted, changed - upserted, time.monotonic() - started, mark)
