"""SQLite -> PostgreSQL: the whole copy in one target transaction, verified before it commits,
and the catch-up that replays what changed on a captured source since the last run."""

import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.db import connections

from config.database import DB_DEFAULT
from dbcopy import capture, postgres
from dbcopy.diagnose import bad_value_in_sqlite
from dbcopy.models import CaptureMark
from dbcopy.progress import Progress, SilentProgress
from dbcopy.source import (
    CopyRefused,
    check_same_migrations,
    check_sqlite_file,
    close_alias,
    open_read_only,
    open_writable,
    register_source_alias,
)
from dbcopy.tables import Table, copied_tables
from dbcopy.values import FETCH_ROWS, KEY_CHUNK, PG_ARRAY_TYPES, quote, to_postgres_converter
from dbcopy.verify import VerifyReport, verify_rows, verify_tables


class CopyFailed(Exception):
    """The copy stopped on a row the target refused; the transaction was rolled back."""


class VerificationFailed(Exception):
    def __init__(self, failures: list[str]):
        super().__init__("; ".join(failures))
        self.failures = failures


@dataclass
class CopyReport:
    tables: int
    rows: int
    seconds: float
    verification: VerifyReport
    mark: int | None = None


@dataclass
class CatchUpReport:
    changed_keys: int
    upserted: int
    deleted: int
    seconds: float
    mark: int
    # With verify_all: every table compared at this mark (the snapshot later rounds build on).
    verification: VerifyReport | None = None


def postgres_target():
    """The configured database, which a copy writes (or a rollback reads): PostgreSQL."""
    target = connections[DB_DEFAULT]
    if target.vendor != "postgresql":
        raise CopyRefused(f"the target must be PostgreSQL (set DATABASE_URL), not {target.vendor}")
    return target


def prepare(path) -> tuple[Path, list[Table]]:
    """The checks every copy makes before touching anything."""
    path = Path(path)
    check_sqlite_file(path)
    postgres_target()
    alias = register_source_alias(path)
    try:
        check_same_migrations(alias, DB_DEFAULT, source_name=str(path))
    finally:
        close_alias(alias)
    return path, copied_tables()


def source_key(path: Path) -> str:
    return str(path.resolve())


def _copy_rows(pg_cursor, table: Table, rows, progress: Progress, total: int, done: int = 0) -> int:
    """COPY the selected rows into the table; returns how many (``done`` counts earlier
    chunks of the same table, for the progress display)."""
    started = done
    columns = ", ".join(quote(c) for c in table.column_names)
    converters = [
        (i, f) for i, c in enumerate(table.columns) if (f := to_postgres_converter(c.kind))
    ]
    with pg_cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
        write_row = copy.write_row
        while batch := rows.fetchmany(FETCH_ROWS):
            if converters:
                batch = [list(row) for row in batch]
                for row in batch:
                    for i, convert in converters:
                        row[i] = convert(row[i])
            for row in batch:
                write_row(row)
            done += len(batch)
            progress.rows(table.name, done, total)
    return done - started


@contextmanager
def _refused_rows(source, table: Table, keys=None):
    """A row PostgreSQL refused (a value of the wrong type, a NUL character, a number out of
    range): name the value by table, column and key, searched for in the source."""
    try:
        yield
    except (psycopg.DataError, psycopg.IntegrityError, sqlite3.OperationalError) as exc:
        if isinstance(exc, sqlite3.OperationalError) and "decode" not in str(exc):
            raise  # only a text that does not decode, met while reading the rows
        bad = bad_value_in_sqlite(source, table, keys)
        if bad is not None:
            raise bad from None
        if not isinstance(exc, psycopg.DataError):
            raise
        raise CopyFailed(f"{table.name}: {str(exc).strip().splitlines()[0]}") from exc


def _copy_table_rows(source, pg_cursor, table, rows, progress, total) -> int:
    with _refused_rows(source, table):
        return _copy_rows(pg_cursor, table, rows, progress, total)


def copy_sqlite_to_postgres(
    path, *, truncate: bool = False, capture_changes: bool = False, progress: Progress | None = None
) -> CopyReport:
    """Copy every table of the SQLite file into PostgreSQL in one transaction: constraints and
    indexes set aside, rows streamed with COPY, everything rebuilt, sequences reset, then
    verified against the same source snapshot before the commit. Any failure leaves the
    target as it was."""
    progress = progress or SilentProgress()
    path, tables = prepare(path)
    target = postgres_target()
    with target.cursor() as cursor:
        non_empty = postgres.non_empty_tables(cursor, tables)
    if non_empty and not truncate:
        shown = ", ".join(non_empty[:3]) + (", ..." if len(non_empty) > 3 else "")
        raise CopyRefused(f"the target already holds data ({shown}): use --truncate to replace it")

    if capture_changes:
        writer = open_writable(path)
        try:
            capture.install_capture(writer, tables)
        finally:
            writer.close()
    started = time.monotonic()
    source = open_read_only(path)
    try:
        # One read transaction: the copy, the mark and the verification see one snapshot,
        # while the app keeps writing to the file (WAL).
        source.execute("BEGIN")
        mark = capture.current_mark(source) if capture_changes else None
        totals = {
            t.name: source.execute(f"SELECT count(*) FROM {quote(t.name)}").fetchone()[0]
            for t in tables
        }
        with postgres.target_transaction(target) as pg:
            with pg.cursor() as cursor:
                # Index builds sort in memory rather than in temporary files.
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                progress.message("setting constraints and indexes aside")
                deferred = postgres.drop_constraints_and_indexes(cursor, tables)
                postgres.truncate(cursor, [t.name for t in tables])
                rows = 0
                for table in tables:
                    progress.table_started(table.name, totals[table.name])
                    selected = source.execute(
                        f"SELECT {', '.join(quote(c) for c in table.column_names)} "
                        f"FROM {quote(table.name)}"
                    )
                    rows += _copy_table_rows(
                        source, cursor, table, selected, progress, totals[table.name]
                    )
                    progress.table_done(table.name)
                postgres.rebuild(cursor, deferred, progress)
            postgres.reset_sequences(target, tables)
            if capture_changes:
                CaptureMark.objects.update_or_create(
                    source=source_key(path), defaults={"last_seq": mark}
                )
            copy_seconds = time.monotonic() - started
            report = verify_tables(source, pg, tables, progress=progress)
            if not report.ok:
                raise VerificationFailed(report.failures())
        source.execute("COMMIT")
    finally:
        source.close()
    return CopyReport(
        tables=len(tables), rows=rows, seconds=copy_seconds, verification=report, mark=mark
    )


def catch_up(path, *, progress: Progress | None = None, verify_all: bool = False) -> CatchUpReport:
    """Replay what changed on a captured source since the last run: for every changed key,
    the row's current state replaces the target's, or the target's row goes where the source
    no longer has one. One target transaction with deferred foreign keys; the replayed rows
    are compared with the source before it commits. ``verify_all``: then every table is
    compared, source and target both at the mark replayed to (the source's read snapshot is
    held, so the app may go on writing)."""
    progress = progress or SilentProgress()
    path, tables = prepare(path)
    target = postgres_target()
    by_name = {t.name: t for t in tables}
    mark = CaptureMark.objects.filter(source=source_key(path)).first()
    if mark is None:
        raise CopyRefused(f"{path} was never copied with --capture to this target")
    started = time.monotonic()
    source = open_read_only(path)
    try:
        if not capture.capture_installed(source):
            raise CopyRefused(f"{path} has no change capture: copy it with --capture first")
        missing = capture.missing_triggers(source, tables)
        if missing:
            raise CopyFailed(
                f"the change capture on {path} lacks trigger {missing[0]}: changes made "
                "without it reach no catch-up; copy again with --capture --truncate"
            )
        source.execute("BEGIN")
        upto = capture.current_mark(source)
        changes = capture.changed_keys(source, after=mark.last_seq, upto=upto)
        unknown = sorted(set(changes) - set(by_name))
        if unknown:
            raise CopyRefused(f"changes captured for tables this app does not have: {unknown}")
        upserted = 0
        with postgres.target_transaction(target) as pg:
            with pg.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                for name, keys in changes.items():
                    _delete_keys(cursor, by_name[name], keys)
                for name, keys in changes.items():
                    progress.table_started(name, len(keys))
                    upserted += _copy_keys(source, cursor, by_name[name], keys, progress)
                    progress.table_done(name)
            postgres.reset_sequences(target, [by_name[n] for n in changes])
            mark.last_seq = upto
            mark.save(update_fields=["last_seq", "updated_at"])
            failures = verify_rows(source, pg, by_name, changes)
            if failures:
                raise VerificationFailed(failures)
        verification = None
        if verify_all:
            with postgres.target_transaction(target, snapshot=True) as pg:
                verification = verify_tables(source, pg, tables, progress=progress)
            if not verification.ok:
                raise VerificationFailed(verification.failures())
        source.execute("COMMIT")
    finally:
        source.close()
    changed = sum(len(k) for k in changes.values())
    return CatchUpReport(
        changed_keys=changed,
        upserted=upserted,
        deleted=changed - upserted,
        seconds=time.monotonic() - started,
        mark=upto,
        verification=verification,
    )


def _delete_keys(cursor, table: Table, keys: list) -> None:
    array_type = PG_ARRAY_TYPES[table.pk_kind]
    for start in range(0, len(keys), KEY_CHUNK):
        cursor.execute(
            f"DELETE FROM {quote(table.name)} WHERE {quote(table.pk)} = ANY(%s::{array_type})",
            [[str(k) for k in keys[start : start + KEY_CHUNK]]],
        )


def _copy_keys(source, cursor, table: Table, keys: list, progress: Progress) -> int:
    columns = ", ".join(quote(c) for c in table.column_names)
    written = 0
    for start in range(0, len(keys), KEY_CHUNK):
        chunk = keys[start : start + KEY_CHUNK]
        selected = source.execute(
            f"SELECT {columns} FROM {quote(table.name)} "
            f"WHERE {quote(table.pk)} IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
        with _refused_rows(source, table, chunk):
            written += _copy_rows(cursor, table, selected, progress, len(keys), done=written)
    return written


def stop_capture(path) -> None:
    """Remove the triggers and the change table from the source."""
    path = Path(path)
    check_sqlite_file(path)
    writer = open_writable(path)
    try:
        capture.remove_capture(writer, copied_tables())
    finally:
        writer.close()


def verify_copy(path, *, progress: Progress | None = None) -> VerifyReport:
    """Compare the SQLite file with the configured PostgreSQL database, each read in one
    snapshot: counts, checksums, invariants."""
    path, tables = prepare(path)
    target = postgres_target()
    source = open_read_only(path)
    try:
        source.execute("BEGIN")
        with postgres.target_transaction(target, snapshot=True) as pg:
            report = verify_tables(source, pg, tables, progress=progress)
        source.execute("COMMIT")
    finally:
        source.close()
    return report
