"""The pre-migration check (``copy_from_sqlite PATH --check``): every problem a copy of PATH
into the configured PostgreSQL database would meet, all at once, and a forecast; read-only on
both sides (the source opened with ``mode=ro``, the target only asked).

Each finding has a stable check id, a count and up to ``SAMPLES`` sample keys. The values are
judged by the copy's own checks (``dbcopy.sqlite.problem_values``, the ones that name a value
the copy refuses), so the check and the copy cannot disagree about a value.
"""

import multiprocessing
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing
from dataclasses import asdict, dataclass, field
from functools import partial
from operator import itemgetter
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from dbcopy import sqlite, stream
from dbcopy.capture import CHANGE_TABLE
from dbcopy.chunks import FETCH_ROWS
from dbcopy.exceptions import CopyRefused
from dbcopy.invariants import declared
from dbcopy.plan import applied_migrations
from dbcopy.postgres import non_empty_tables
from dbcopy.sql import quote
from dbcopy.tables import Column, Table, copied_tables
from ops.budget import budget_problem
from ops.pooler import statement_timeout_problem
from ops.text import first_line

SAMPLES = 5
# The CPU a scan costs per row and per column (or foreign key, or unique column set) it
# checks, relative to one another (bench/copy.py at 1M entries): what orders the scans.
SCAN_COST = {"integrity": 4, "values": 4, "orphans": 7, "unique": 12}
# Rows of each table read and converted to time the forecast, a batch at a time.
SAMPLE_ROWS = 5_000
SAMPLE_BATCH_ROWS = 1_000
# The whole copy (PostgreSQL's COPY, the keys and indexes rebuilt, the verification) against
# reading and converting the source alone: bench/copy.py at 1M entries, 2026-12.
COPY_TO_READ_RATIO = 4.0
# The cutover's pause beyond replaying the last round's changes (bench/copy.py --cutover).
CUTOVER_BASE_PAUSE_SECONDS = 0.2
WRITE_RATE_WINDOW_SECONDS = 1.0
# The invariants join rows by key and so visit the file's pages in no order: mapped into
# memory (read-only), a page costs no system call at each visit.
INVARIANTS_MMAP_BYTES = 1 << 31

# A reason of ``dbcopy.kinds``' checks -> its check id.
VALUE_CHECKS = (
    ("longer than the column's", "value.too_long"),
    ("holds a NUL", "value.nul"),
    ("outside ", "value.out_of_range"),
    ("text that is not UTF-8", "value.not_utf8"),
    ("not valid JSON", "value.json"),
    ("JSON holding", "value.json"),
    ("not a date", "value.datetime"),
    ("not a time", "value.datetime"),
)


@dataclass
class Sample:
    table: str
    column: str | None
    key: str


@dataclass
class Finding:
    check: str
    message: str
    count: int = 1
    samples: list[Sample] = field(default_factory=list)

    def add(self, sample: Sample) -> None:
        self.count += 1
        if len(self.samples) < SAMPLES:
            self.samples.append(sample)


@dataclass
class Forecast:
    tables: int
    rows: int
    bytes: int
    copy_seconds: float
    # Writes a second the change log saw while the check ran (capture on), else None.
    write_rate: float | None = None
    cutover_pause_seconds: float | None = None


@dataclass
class CheckReport:
    source: str
    target: str
    findings: list[Finding] = field(default_factory=list)
    forecast: Forecast | None = None

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict:
        return {"ok": self.ok, **asdict(self)}


def _value_check(reason: str) -> str:
    return next((check for text, check in VALUE_CHECKS if text in reason), "value.kind")


def _grouped(findings: Iterator[tuple[str, str, Sample]]) -> list[Finding]:
    """(check, message, sample) -> one finding per (check, message), counted."""
    grouped: dict[tuple[str, str], Finding] = {}
    for check, message, sample in findings:
        if (check, message) in grouped:
            grouped[(check, message)].add(sample)
        else:
            grouped[(check, message)] = Finding(check, message, 1, [sample])
    return list(grouped.values())


def _bad_values(source: sqlite3.Connection, tables: list[Table]):
    for table in tables:
        for bad in sqlite.problem_values(source, table, ordered=False):
            key = table.key_text(bad.key)
            message = f"{bad.table}.{bad.column}: {bad.reason}"
            yield _value_check(bad.reason), message, Sample(bad.table, bad.column, key)


def _orphans(source: sqlite3.Connection, tables: list[Table]):
    """Rows whose foreign key points at no row of its parent (SQLite enforces foreign keys
    only when told to): the models' foreign keys, which PostgreSQL enforces. Both sides are
    read from their tables (``NOT INDEXED``; the parent's keys gathered once into a
    materialized set SQLite indexes for the lookups), as the copy reads them: an index that
    disagrees with its table (``PRAGMA quick_check`` does not compare them) changes nothing
    here."""
    # The parent's keys and their index in memory rather than a temporary file: at most the
    # keys of one table at a time.
    source.execute("PRAGMA temp_store = MEMORY")
    for table in tables:
        for column, parent, parent_column in table.foreign_keys:
            if _every_value_has_a_parent(source, table.name, column, parent, parent_column):
                continue
            child, col = quote(table.name), quote(column)
            rows = source.execute(
                f"WITH p(k) AS MATERIALIZED"
                f" (SELECT {quote(parent_column)} FROM {quote(parent)} NOT INDEXED)"
                f" SELECT c.{quote(table.pk)}, c.{col} FROM {child} c NOT INDEXED"
                f" WHERE c.{col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM p WHERE p.k = c.{col})"
                f" ORDER BY c.{quote(table.pk)}"
            )
            message = f"{table.name}.{column} points at no row of {parent}"
            for key, _ in rows:
                yield "source.orphan", message, Sample(table.name, column, table.key_text(key))


def _every_value_has_a_parent(
    source: sqlite3.Connection, child: str, column: str, parent: str, parent_column: str
) -> bool:
    """Whether every value of the column is equal, in Python, to a key of the parent, both read
    from their tables: a set of the parent's keys and one pass over the column take a third
    less time than SQLite's lookups into the index it builds for them. Python's equality is
    at least as strict as SQLite's comparison here (no affinity, no collation), so True proves
    that no row is an orphan; False, or a text that is not UTF-8, leaves the answer to the SQL
    search, which names the rows."""
    # Read strictly: two texts that are not UTF-8 must not meet as the same replacement text.
    text_factory, source.text_factory = source.text_factory, str
    try:
        parents = source.execute(f"SELECT {quote(parent_column)} FROM {quote(parent)} NOT INDEXED")
        keys = set(map(itemgetter(0), parents))
        col = quote(column)
        values = source.execute(
            f"SELECT {col} FROM {quote(child)} NOT INDEXED WHERE {col} IS NOT NULL"
        )
        while batch := values.fetchmany(FETCH_ROWS):
            if not keys.issuperset(map(itemgetter(0), batch)):
                return False
    except sqlite3.OperationalError:  # a text that is not UTF-8
        return False
    finally:
        source.text_factory = text_factory
    return True


def _unique_column_sets(table: Table) -> list[tuple[str, ...]]:
    """The column sets PostgreSQL will hold unique: the primary key, unique fields, and
    unique constraints without a condition (``unique_together`` among them)."""
    model = next(
        m for m in apps.get_models(include_auto_created=True) if m._meta.db_table == table.name
    )
    meta = model._meta
    columns = {f.name: f.column for f in meta.concrete_fields}
    sets: list[tuple[str, ...]] = [(meta.pk.column,)]
    sets += [(f.column,) for f in meta.concrete_fields if f.unique and not f.primary_key]
    sets += [tuple(columns[n] for n in fields) for fields in meta.unique_together]
    for constraint in meta.constraints:
        fields = getattr(constraint, "fields", ())
        if (
            fields
            and getattr(constraint, "condition", None) is None
            and not getattr(constraint, "expressions", ())
        ):
            sets.append(tuple(columns[n] for n in fields))
    return list(dict.fromkeys(sets))


def _as_postgres_compares(column: Column) -> str:
    """A column's value as PostgreSQL compares it: a ``uuid`` whatever its case or dashes,
    else the text the verification compares."""
    return column.value_kind.as_postgres_compares(quote(column.name))


def _collisions(source: sqlite3.Connection, tables: list[Table]):
    """Values SQLite holds as distinct that PostgreSQL would take as equal: grouped by the
    text the verification compares (the value as PostgreSQL will hold it). Read from the
    table (``NOT INDEXED``), not from the unique index SQLite would otherwise scan: a row its
    index lacks (``PRAGMA quick_check`` does not compare them) is still counted, as the copy
    reads it and PostgreSQL's rebuilt index refuses it."""
    for table in tables:
        by_name = {c.name: c for c in table.columns}
        for columns in _unique_column_sets(table):
            canonical = ", ".join(_as_postgres_compares(by_name[c]) for c in columns)
            not_null = " AND ".join(f"{quote(c)} IS NOT NULL" for c in columns)
            rows = source.execute(
                f"SELECT min({quote(table.pk)}), count(*) FROM {quote(table.name)} NOT INDEXED"
                f" WHERE {not_null} GROUP BY {canonical} HAVING count(*) > 1"
            )
            message = f"{table.name} ({', '.join(columns)}): values PostgreSQL holds as equal"
            for key, _ in rows:
                yield (
                    "source.unique",
                    message,
                    Sample(table.name, ", ".join(columns), table.key_text(key)),
                )


def _integrity(source: sqlite3.Connection) -> list[Finding]:
    """``PRAGMA quick_check``: every page, b-tree and record of the file readable and well
    formed, and the NOT NULL and CHECK constraints held. Unlike ``integrity_check`` (about ten
    times slower at 1M entries) it does not compare each index with its table: the copy reads
    whole tables, not indexes, and PostgreSQL builds its own, and the other checks here read
    tables too (docs/copy.md says what is left to ``integrity_check``)."""
    result = [row[0] for row in source.execute("PRAGMA quick_check")]
    if result == ["ok"]:
        return []
    return [Finding("source.integrity", f"PRAGMA quick_check: {result[0]}", len(result))]


# Each source scan and what it reads: one table's values, its foreign keys, its unique
# column sets, or the whole file's pages.
SCANS: dict[str, Callable[[sqlite3.Connection, list[Table]], Iterator]] = {
    "values": _bad_values,
    "orphans": _orphans,
    "unique": _collisions,
}


def _scan(path: Path, check: str, table: Table | None) -> list[Finding]:
    """One scan of the source, on a read-only connection of its own (run in a process of the
    pool, so it takes a picklable table and gives back picklable findings)."""
    with closing(sqlite.open_read_only(path)) as source:
        # A key that is not UTF-8 is named with replacement characters (its value a finding).
        source.text_factory = sqlite.readable_text
        if table is None:
            return _integrity(source)
        return _grouped(SCANS[check](source, [table]))


class SourceScans:
    """The source's checks, each table's a scan of its own, run by a pool of processes while
    the caller asks the target and checks the invariants.

    Processes rather than threads: SQLite reads in C without Python's lock, but the threads of
    one process still share SQLite's memory lock and the allocator's, which cost the check a
    fifth more CPU at 1M entries (bench/copy.py). The processes are forked when the pool
    starts, before the caller connects anywhere, so they hold a copy of nothing but the
    settings and the tables; each opens the file itself. The largest scans start first, so
    that the pool's processes end together."""

    def __init__(self, path: Path, tables: list[Table]):
        self.path = path
        with closing(sqlite.open_read_only(path)) as source:
            present = {
                row[0]
                for row in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            self.missing = [t.name for t in tables if t.name not in present]
            tables = [t for t in tables if t.name in present]
            rows = {t.name: sqlite.count(source, t) for t in tables}
        # (check, table or None for the whole file, the work it stands for), in the order the
        # findings are reported: the file, then each table's values, orphans and collisions.
        self.scans: list[tuple[str, Table | None, int]] = [
            ("integrity", None, sum(rows.values()) * SCAN_COST["integrity"])
        ]
        for check, width in (
            ("values", lambda t: len(t.columns)),
            ("orphans", lambda t: len(t.foreign_keys)),
            ("unique", lambda t: len(_unique_column_sets(t))),
        ):
            self.scans += [
                (check, t, rows[t.name] * width(t) * SCAN_COST[check])
                for t in tables
                if rows[t.name] and width(t)
            ]
        self.futures: dict[int, Future] = {}

    def __enter__(self) -> "SourceScans":
        processes = min(os.cpu_count() or 1, len(self.scans)) or 1
        self.pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"))
        largest_first = sorted(range(len(self.scans)), key=lambda i: -self.scans[i][2])
        for i in largest_first:
            check, table, _ = self.scans[i]
            self.futures[i] = self.pool.submit(_scan, self.path, check, table)
        return self

    def __exit__(self, *exc) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def findings(self) -> list[Finding]:
        findings = []
        if self.missing:
            findings.append(
                Finding(
                    "source.tables",
                    f"tables of the app the source lacks: {', '.join(self.missing[:SAMPLES])}",
                    len(self.missing),
                )
            )
        for i in range(len(self.scans)):
            findings += self.futures[i].result()
        return findings


def _migration_findings(source_alias: str, target_alias: str | None) -> list[Finding]:
    source = applied_migrations(source_alias)
    if not source:
        return [
            Finding(
                "source.migrations",
                "the source has no applied migrations: not a database of this app",
            )
        ]
    if target_alias is None:
        return []
    target = applied_migrations(target_alias)
    findings = []
    for missing, check, where in (
        (
            source - target,
            "target.migrations",
            "applied on the source, not on the target (run migrate on it)",
        ),
        (target - source, "source.migrations", "applied on the target, not on the source"),
    ):
        if missing:
            names = sorted(f"{app}.{name}" for app, name in missing)
            findings.append(
                Finding(
                    check,
                    f"{len(names)} migrations {where}: {', '.join(names[:SAMPLES])}",
                    len(names),
                )
            )
    return findings


def _invariant_findings(source_alias: str) -> list[Finding]:
    """What each app declares its data must satisfy (``AppConfig.data_invariants``), which the
    copy's verification checks on the target: broken on the source, broken after the copy."""
    with connections[source_alias].cursor() as cursor:
        cursor.execute(f"PRAGMA mmap_size = {INVARIANTS_MMAP_BYTES}")
    findings = []
    for description, rows in declared():
        rows = rows.using(source_alias)
        try:
            count = rows.count()
            keys = list(rows.order_by("pk").values_list("pk", flat=True)[:SAMPLES]) if count else []
        except (DatabaseError, ValueError, TypeError) as exc:
            findings.append(
                Finding("source.invariant", f"{description}: cannot be checked ({exc})")
            )
            continue
        if count:
            table = rows.model._meta.db_table
            samples = [Sample(table, None, str(key).replace("-", "")) for key in keys]
            findings.append(Finding("source.invariant", f"{count} {description}", count, samples))
    return findings


def _target_findings(tables: list[Table]) -> tuple[list[Finding], str | None]:
    """The target's readiness; the alias to ask further, None when it cannot be asked."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return [
            Finding(
                "target.not_postgresql",
                f"the target must be PostgreSQL (set DATABASE_URL), not {connection.vendor}",
            )
        ], None
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_encoding")
            encoding = cursor.fetchone()[0]
    except DatabaseError as exc:
        reason = first_line(exc)
        return [Finding("target.unreachable", f"cannot connect to the target: {reason}")], None
    findings = []
    if encoding.upper() not in ("UTF8", "UTF-8"):
        findings.append(
            Finding(
                "target.encoding",
                f"the target's encoding is {encoding}, not UTF8: text outside it would be refused",
            )
        )
    if not applied_migrations(DEFAULT_DB_ALIAS):
        findings.append(
            Finding(
                "target.not_migrated",
                "the target has no applied migrations: run migrate on it first",
            )
        )
        return findings, None
    holding = non_empty_tables(connection, tables)
    if holding:
        findings.append(
            Finding(
                "target.not_empty",
                f"the target holds data in {len(holding)} tables "
                f"({', '.join(holding[:SAMPLES])}): the copy refuses it without --truncate",
                len(holding),
            )
        )
    workers = settings.GUNICORN_WORKERS
    for check, problem in (
        ("target.connection_budget", budget_problem(workers)),
        ("target.statement_timeout", statement_timeout_problem()),
    ):
        if problem:
            findings.append(Finding(check, problem))
    return findings, DEFAULT_DB_ALIAS


def _forecast(source: sqlite3.Connection, tables: list[Table]) -> Forecast:
    """Rows and bytes, and the copy's time from reading and converting a sample of each
    table as the copy's stream does, scaled to its rows and by ``COPY_TO_READ_RATIO``."""
    rows = 0
    read_seconds = 0.0
    # A text that is not UTF-8 is a finding of the scans; here it is read like any other.
    source.text_factory = sqlite.readable_text
    present = {
        row[0] for row in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    for table in (t for t in tables if t.name in present):
        count = sqlite.count(source, table)
        rows += count
        if not count:
            continue
        converters = stream.converters_of(table)
        columns = ", ".join(quote(c) for c in table.column_names)
        cursor = source.execute(f"SELECT {columns} FROM {quote(table.name)} LIMIT {SAMPLE_ROWS}")
        # The first batch untimed: it pays for memory this process has not used yet, which
        # the copy pays once for all its rows (a third more on the estimate, measured).
        batches = iter(partial(cursor.fetchmany, SAMPLE_BATCH_ROWS), [])
        stream.converted(next(batches, []), converters)
        started = time.thread_time()
        sampled = sum(len(stream.converted(batch, converters)) for batch in batches)
        if sampled:
            read_seconds += (time.thread_time() - started) * count / sampled
    page_size = source.execute("PRAGMA page_size").fetchone()[0]
    pages = source.execute("PRAGMA page_count").fetchone()[0]
    return Forecast(
        tables=len(present & {t.name for t in tables}),
        rows=rows,
        bytes=page_size * pages,
        copy_seconds=round(read_seconds * COPY_TO_READ_RATIO, 2),
    )


def _add_write_rate(source: sqlite3.Connection, forecast: Forecast) -> None:
    """With capture on, the change log's growth over a moment is the app's write rate, and
    the cutover's pause replays about one round of it."""
    present = source.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [CHANGE_TABLE]
    ).fetchone()
    if not present:
        return

    def last_seq() -> int:
        return source.execute(f"SELECT coalesce(max(seq), 0) FROM {CHANGE_TABLE}").fetchone()[0]

    before = last_seq()
    time.sleep(WRITE_RATE_WINDOW_SECONDS)
    rate = (last_seq() - before) / WRITE_RATE_WINDOW_SECONDS
    per_row = forecast.copy_seconds / max(forecast.rows, 1)
    forecast.write_rate = rate
    forecast.cutover_pause_seconds = round(CUTOVER_BASE_PAUSE_SECONDS + rate * per_row, 3)


def check_copy(path: Path | str) -> CheckReport:
    """Everything a copy of the SQLite database at ``path`` into the configured PostgreSQL
    database would meet, without writing to either."""
    path = Path(path)
    target = connections[DEFAULT_DB_ALIAS]
    report = CheckReport(
        source=str(path), target=f"{target.vendor} {target.settings_dict.get('NAME')}"
    )
    try:
        sqlite.check_file(path)
    except CopyRefused as exc:
        report.findings.append(Finding("source.file", str(exc)))
        return report
    tables = copied_tables()
    try:
        # The sample is timed before the scans start, which would slow it down.
        with closing(sqlite.open_read_only(path)) as source:
            forecast = _forecast(source, tables)
        # The pool forks before this process connects to the target or opens the source
        # through Django.
        with SourceScans(path, tables) as scans:
            target_findings, target_alias = _target_findings(tables)
            alias = sqlite.register_source_alias(path)
            try:
                report.findings += _migration_findings(alias, target_alias)
                invariants = _invariant_findings(alias)
                with closing(sqlite.open_read_only(path)) as source:
                    _add_write_rate(source, forecast)
                report.forecast = forecast
                report.findings += scans.findings() + invariants + target_findings
            finally:
                sqlite.close_alias(alias)
    except sqlite3.DatabaseError as exc:
        report.findings.append(Finding("source.unreadable", f"{path}: {exc}"))
    return report
