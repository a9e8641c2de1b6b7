"""PostgreSQL -> a new SQLite file: the way back after a cutover, so writes made on
PostgreSQL survive a rollback. The file gets its schema from the migrations, then every row
as Django would have stored it in SQLite, then the same verification as a forward copy."""

import os
import time
from pathlib import Path

from django.core.management import call_command

from dbcopy import postgres
from dbcopy.exceptions import CopyRefused, VerificationFailed
from dbcopy.progress import Progress, SilentProgress
from dbcopy.routers import ROLLBACK_TARGET
from dbcopy.sql import quote
from dbcopy.sqlite import close_alias, open_read_only, open_writable, register_sqlite_alias
from dbcopy.steps import CopyReport
from dbcopy.tables import copied_tables
from dbcopy.verify import verify_tables


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
    one SQLite transaction, then compared with that snapshot."""
    progress = progress or SilentProgress()
    target = postgres.target()
    tables = copied_tables()
    started = time.monotonic()
    writer = open_writable(path)
    rows = 0
    try:
        # One consistent snapshot of PostgreSQL for the copy and its verification.
        with postgres.target_transaction(target, snapshot=True) as pg:
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
                    target_alias=target.alias,
                    sqlite_alias=ROLLBACK_TARGET,
                    sqlite_is_source=False,
                    progress=progress,
                )
            finally:
                close_alias(ROLLBACK_TARGET)
                reader.close()
    finally:
        writer.close()
    if not report.ok:
        raise VerificationFailed(report.failures())
    return CopyReport(tables=len(tables), rows=rows, seconds=copy_seconds, verification=report)


def _copy_table(pg, writer, table, progress: Progress) -> int:
    # PostgreSQL holds values SQLite's text forms cannot say (infinite or BC times): they would
    # be written as something else and read back the same way, so they are looked for first.
    bad = postgres.bad_value(pg, table)
    if bad is not None:
        raise bad
    total = postgres.count(pg, table)
    progress.table_started(table.name, total)
    columns = ", ".join(quote(c) for c in table.column_names)
    insert = (
        f"INSERT INTO {quote(table.name)} ({columns}) "
        f"VALUES ({', '.join('?' * len(table.columns))})"
    )
    converters = [(i, f) for i, c in enumerate(table.columns) if (f := c.value_kind.to_sqlite)]
    done = 0
    for batch in postgres.read_rows(pg, table):
        if converters:
            batch = [list(row) for row in batch]
            for row in batch:
                for i, convert in converters:
                    row[i] = convert(row[i])
        writer.executemany(insert, batch)
        done += len(batch)
        progress.rows(table.name, done, total)
    progress.table_done(table.name)
    return done
