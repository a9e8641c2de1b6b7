"""SQLite -> PostgreSQL, the steps in order for the commands: each entry point prepares one
plan (``dbcopy.plan``) and hands it from step to step.

A full copy is one target transaction: constraints and indexes set aside, rows streamed with
COPY, everything rebuilt, sequences reset, then verified against the same source snapshot
before the commit. Any failure leaves the target as it was."""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from dbcopy import capture, catchup, pg_capture, postgres, rebuild, sqlite, stream
from dbcopy.catchup import CatchUpReport
from dbcopy.exceptions import CopyRefused, VerificationFailed
from dbcopy.models import CaptureMark
from dbcopy.plan import Plan, prepare
from dbcopy.progress import Progress, SilentProgress
from dbcopy.tables import copied_tables
from dbcopy.verify import SourceSums, VerifyReport, sqlite_sums_of, verify_tables


@dataclass
class CopyReport:
    tables: int
    rows: int
    seconds: float
    verification: VerifyReport
    # Where a catch-up starts: the SQLite source's change number, or PostgreSQL's snapshot.
    mark: int | str | None = None


def copy_plan(
    plan: Plan,
    *,
    truncate: bool = False,
    capture_changes: bool = False,
    progress: Progress | None = None,
) -> CopyReport:
    progress = progress or SilentProgress()
    tables = plan.tables
    non_empty = postgres.non_empty_tables(plan.target, tables)
    if non_empty and not truncate:
        shown = ", ".join(non_empty[:3]) + (", ..." if len(non_empty) > 3 else "")
        raise CopyRefused(f"the target already holds data ({shown}): use --truncate to replace it")
    if capture_changes:
        writer = sqlite.open_writable(plan.path)
        try:
            capture.install_capture(writer, tables)
        finally:
            writer.close()
    started = time.monotonic()
    # The copy, the mark and the verification see one snapshot of the source.
    with plan.snapshot() as source, ThreadPoolExecutor(max_workers=1) as pool:
        mark = capture.current_mark(source) if capture_changes else None
        with postgres.target_transaction(plan.target) as pg:
            with pg.cursor() as cursor:
                # Index builds sort in memory rather than in temporary files.
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                progress.message("setting constraints and indexes aside")
                deferred = rebuild.drop_constraints_and_indexes(cursor, tables)
                rebuild.truncate(cursor, [t.name for t in tables])
                counts = {t.name: stream.copy_table(source, cursor, t, progress) for t in tables}
                # The source's side of the verification, hashed by Python while PostgreSQL
                # rebuilds and then sums its side.
                source_sums = SourceSums(pool.submit(sqlite_sums_of, source, tables), counts)
                try:
                    rebuild.rebuild(cursor, deferred, progress)
                except BaseException:
                    source.interrupt()  # the thread's query stops: nothing waits for it
                    raise
            rebuild.reset_sequences(plan.target, tables)
            if mark is not None:
                CaptureMark.objects.update_or_create(source=plan.key, defaults={"last_seq": mark})
            copy_seconds = time.monotonic() - started
            report = verify_tables(
                source,
                pg,
                tables,
                target_alias=plan.target.alias,
                source_sums=source_sums,
                progress=progress,
            )
            if not report.ok:
                raise VerificationFailed(report.failures())
    return CopyReport(
        tables=len(tables),
        rows=sum(counts.values()),
        seconds=copy_seconds,
        verification=report,
        mark=mark,
    )


def copy_sqlite_to_postgres(
    path, *, truncate: bool = False, capture_changes: bool = False, progress: Progress | None = None
) -> CopyReport:
    """Copy every table of the SQLite file into PostgreSQL, verified before it commits."""
    with prepare(path) as plan:
        return copy_plan(
            plan, truncate=truncate, capture_changes=capture_changes, progress=progress
        )


def stop_capture_on_postgres() -> bool:
    """Remove the way back's change capture (``dbcopy.pg_capture``) from the configured
    PostgreSQL database; whether there was any. ``copy_to_sqlite --switch`` removes it when it
    ends; only a command killed with SIGKILL leaves it, writing a row per change for nothing."""
    target = postgres.target()
    if not pg_capture.installed(target):
        return False
    pg_capture.remove(target, copied_tables())
    return True


def catch_up(path, *, progress: Progress | None = None) -> CatchUpReport:
    """Replay what changed on a captured source since the last run (``dbcopy.catchup``)."""
    with prepare(path) as plan:
        return catchup.catch_up(plan, progress=progress)


def verify_copy(path, *, progress: Progress | None = None) -> VerifyReport:
    """Compare the SQLite file with the configured PostgreSQL database, each read in one
    snapshot: counts, checksums, invariants."""
    with (
        prepare(path) as plan,
        plan.snapshot() as source,
        postgres.target_transaction(plan.target, snapshot=True) as pg,
    ):
        return verify_tables(
            source, pg, plan.tables, target_alias=plan.target.alias, progress=progress
        )


def stop_capture(path) -> None:
    """Remove the triggers and the change table from the source."""
    path = Path(path)
    sqlite.check_file(path)
    writer = sqlite.open_writable(path)
    try:
        capture.remove_capture(writer, copied_tables())
    finally:
        writer.close()
