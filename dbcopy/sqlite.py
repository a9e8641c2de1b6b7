"""The SQLite side of a copy, mirrored by ``dbcopy.postgres``: opening the file (read-only as
a source, writable for the capture and the rollback), counting and reading a table's rows,
the table's checksum and the hashes of rows by key, and the search for a value that is not
of its column's kind. Values come back as SQLite stored them (plain ``sqlite3``, no Django
converters), since that is what is compared."""

import sqlite3
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import load_backend
from django.utils.connection import ConnectionDoesNotExist

from dbcopy.checksums import canonical_select, row_bytes, row_hash
from dbcopy.chunks import FETCH_ROWS, TEXT_PART_ROWS, key_chunks, sqlite_keys_in
from dbcopy.exceptions import BadValue, CopyRefused
from dbcopy.json_text import json_problem
from dbcopy.problems import SQLITE, sql_problems
from dbcopy.routers import COPY_SOURCE
from dbcopy.sql import quote
from dbcopy.tables import Table
from ops.databases import sqlite_config

HEADER = b"SQLite format 3\x00"
# The largest rowid SQLite gives a row.
MAX_ROWID = 2**63 - 1


def check_file(path: Path) -> None:
    if not path.exists():
        raise CopyRefused(f"{path}: no such file")
    if not path.is_file():
        raise CopyRefused(f"{path}: not a file")
    with path.open("rb") as fh:
        if fh.read(len(HEADER)) != HEADER:
            raise CopyRefused(f"{path}: not a SQLite database")


def readable_text(data: bytes) -> str:
    """A text as shown beside a finding, whether or not it is UTF-8 (replacement characters
    where it is not): for a connection's ``text_factory``."""
    return data.decode(errors="replace")


def open_read_only(path: Path) -> sqlite3.Connection:
    """A plain connection that cannot write. It may be read from another thread (the
    verification reads SQLite while the main thread asks PostgreSQL)."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA query_only = ON")
    return conn


def open_writable(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=20)
    conn.execute("PRAGMA busy_timeout = 20000")
    return conn


def register_sqlite_alias(alias: str, path: Path, *, read_only: bool) -> str:
    """Open a SQLite file as a database alias of this thread. The copy source is read-only:
    SQLite opens it with mode=ro, and the router never migrates or writes it. A writable file
    is opened as the app opens its own (``ops.databases.sqlite_config``).

    The alias is a dynamic connection (not added to settings.DATABASES), as Django's test
    framework expects of connections made at run time."""
    config = sqlite_config(path)
    if read_only:
        config["NAME"] = f"{path.resolve().as_uri()}?mode=ro"
        config["OPTIONS"] = {}
    config = connections.configure_settings({DEFAULT_DB_ALIAS: {}, alias: config})[alias]
    close_alias(alias)
    connections[alias] = load_backend(config["ENGINE"]).DatabaseWrapper(config, alias)
    return alias


def close_alias(alias: str) -> None:
    try:
        existing = connections[alias]
    except ConnectionDoesNotExist:
        return
    existing.close()
    del connections[alias]


def register_source_alias(path: Path) -> str:
    return register_sqlite_alias(COPY_SOURCE, path, read_only=True)


def count(conn: sqlite3.Connection, table: Table) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {quote(table.name)}").fetchone()[0])


def select_rows(conn: sqlite3.Connection, table: Table, keys: Sequence | None = None):
    """A cursor over the table's rows (only those with these keys, at most KEY_CHUNK)."""
    columns = ", ".join(quote(c) for c in table.column_names)
    if keys is None:
        return conn.execute(f"SELECT {columns} FROM {quote(table.name)}")
    where, params = sqlite_keys_in(table, keys)
    return conn.execute(f"SELECT {columns} FROM {quote(table.name)} WHERE {where}", params)


@contextmanager
def unreadable_values(conn: sqlite3.Connection, table: Table, keys=None) -> Iterator[None]:
    """A value the canonical text cannot be built from (JSON that does not parse): the first
    wrong value of the table, named."""
    try:
        yield
    except (ValueError, TypeError, ArithmeticError):
        bad = bad_value(conn, table, keys)
        if bad is None:
            raise
        raise bad from None


def table_sum(
    conn: sqlite3.Connection, table: Table, on_rows: Callable[[int], None] = lambda n: None
) -> tuple[int, int]:
    """(rows, checksum) of the table: the sum of every row's hash (``dbcopy.checksums``)."""
    select, others = canonical_select(table, "sqlite")
    cursor = conn.execute(f"SELECT {select} FROM {quote(table.name)}")
    rows = total = 0
    with unreadable_values(conn, table):
        while batch := cursor.fetchmany(FETCH_ROWS):
            rows += len(batch)
            on_rows(len(batch))
            if others:
                total += sum(row_hash(row_bytes(r[0], r[1:], others)) for r in batch)
            else:
                total += sum(row_hash(r[0]) for r in batch)
    return rows, total


def row_hashes(conn: sqlite3.Connection, table: Table, keys: list) -> dict[str, int]:
    """The hash of each row with one of these keys, by key as text."""
    select, others = canonical_select(table, "sqlite")
    hashes = {}
    for chunk in key_chunks(keys):
        where, params = sqlite_keys_in(table, chunk)
        rows = conn.execute(
            f"SELECT {quote(table.pk)}, {select} FROM {quote(table.name)} WHERE {where}", params
        )
        with unreadable_values(conn, table, chunk):
            for row in rows:
                hashes[table.key_text(row[0])] = row_hash(row_bytes(row[1], row[2:], others))
    return hashes


def problem_values(
    conn: sqlite3.Connection, table: Table, keys=None, *, ordered: bool = True
) -> Generator[BadValue, None, None]:
    """Every value of the table (among ``keys`` if given) that is not of its column's kind as
    Django stores it in SQLite, or that PostgreSQL's column cannot hold, in primary key order:
    first those SQL can tell, then text that is not UTF-8 and JSON that jsonb refuses (every
    text and JSON column in one read, row by row; a whole table without JSON searched in any
    order is decoded a part at a time, and only a part that fails is read row by row). The
    copy names the first (``bad_value``); ``copy_from_sqlite --check`` counts them all."""
    pk = quote(table.pk)
    chunks: Iterable[list | None] = [None] if keys is None else key_chunks(keys)
    # A row may hold text that is not UTF-8 in another column than the one named: shown with
    # replacement characters instead of failing the search (the second pass names it).
    text_factory = conn.text_factory
    conn.text_factory = readable_text
    try:
        yield from _problem_values(conn, table, pk, chunks, ordered)
    finally:
        conn.text_factory = text_factory


def _problem_values(conn, table, pk, chunks, ordered) -> Iterator[BadValue]:
    # In key order, the first is always the same; unordered, a table is read in its storage
    # order instead of through its key's index (three times faster on a large table).
    order = f" ORDER BY {pk}" if ordered else ""
    # What SQL cannot tell: text that is not UTF-8, JSON that parses but jsonb refuses;
    # every text and JSON column of the table in one read.
    texts = [c for c in table.columns if c.value_kind.textual]
    has_json = any(c.value_kind.json_text for c in texts)
    for chunk in chunks:
        whole = chunk is None and not ordered
        rowid = _rowid(conn, table) if whole else None
        # The whole table in any order: the columns whose every value Python tells right in
        # one pass need no search by SQL.
        fine = _columns_told_fine(conn, table, rowid) if rowid else set()
        yield from sql_problems(
            conn.cursor(), SQLITE, table, chunk, ordered=ordered, known_fine=fine
        )
        if not texts:
            continue
        if rowid and not has_json:
            # The whole table in any order: only its parts holding text that is not UTF-8
            # are read row by row.
            for first, last in _parts_not_utf8(conn, table, texts, rowid):
                yield from _text_problems(
                    conn, table, texts, f"{rowid} BETWEEN ? AND ?", (first, last), ""
                )
            continue
        where, params = ("1", ()) if chunk is None else sqlite_keys_in(table, chunk)
        yield from _text_problems(conn, table, texts, where, params, order)


def _text_problems(conn, table, texts, where, params, order) -> Iterator[BadValue]:
    """The texts of the rows ``where`` selects that are not UTF-8, and their JSON that jsonb
    refuses, row by row."""
    blobs = ", ".join(
        f"CASE WHEN typeof({quote(c.name)}) = 'text' THEN CAST({quote(c.name)} AS BLOB) END"
        for c in texts
    )
    rows = conn.execute(
        f"SELECT {quote(table.pk)}, {blobs} FROM {quote(table.name)} WHERE {where}{order}",
        params,
    )
    has_json = any(c.value_kind.json_text for c in texts)
    while batch := rows.fetchmany(FETCH_ROWS):
        if not has_json and _all_utf8(batch):
            continue
        for key, *values in batch:
            for column, value in zip(texts, values, strict=True):
                if value is None:
                    continue
                try:
                    text = value.decode()
                except UnicodeDecodeError:
                    yield BadValue(
                        table.name, table.pk, column.name, key, value, "text that is not UTF-8"
                    )
                    continue
                if column.value_kind.json_text and (why := json_problem(text)):
                    yield BadValue(table.name, table.pk, column.name, key, text, why)


def _rowid(conn, table) -> str | None:
    """The name the table's rowid answers to, or None: a table WITHOUT ROWID, or one whose
    columns take all three names (a column named rowid is not the rowid)."""
    columns = {
        name.lower()
        for (name,) in conn.execute("SELECT name FROM pragma_table_xinfo(?)", [table.name])
    }
    name = next((name for name in ("rowid", "_rowid_", "oid") if name not in columns), None)
    if name is None:
        return None
    try:
        conn.execute(f"SELECT {name} FROM {quote(table.name)} LIMIT 0")
    except sqlite3.OperationalError:  # WITHOUT ROWID
        return None
    return name


def _columns_told_fine(conn, table, rowid) -> set[str]:
    """The columns of a kind Python can tell many values of at once (``ValueKind.fixed_text``,
    ``shape``) whose every value is right, told FETCH_ROWS rowids at a time.
    SQLite flags a value that is not text (or, for a fixed text, not of its length in bytes),
    counts the values and joins them; Python deletes a fixed text's alphabet from the join,
    which leaves nothing exactly when every byte is one of it, or matches the join, joined by
    commas, against the shape. A column with a value that fails is left to SQL's search, which
    names the value; the others hold no value it would name."""
    columns = [c for c in table.columns if c.value_kind.fixed_text or c.value_kind.shape]
    if not columns:
        return set()
    selected = []
    for column in columns:
        c, kind = quote(column.name), column.value_kind
        wrong = f"typeof({c}) <> 'text'"
        joined = f"group_concat({c}, ',')"
        if kind.fixed_text:
            wrong += f" OR length(CAST({c} AS BLOB)) <> {kind.fixed_text[0]}"
            joined = f"CAST(group_concat({c}, '') AS BLOB)"
        selected += [f"max({c} IS NOT NULL AND ({wrong}))", joined, f"count({c})"]
    fine = {c.name for c in columns}
    for first, last in _rowid_parts(conn, table, rowid, FETCH_ROWS):
        if not fine:
            break
        part = conn.execute(
            f"SELECT {', '.join(selected)} FROM {quote(table.name)} WHERE {rowid} BETWEEN ? AND ?",
            (first, last),
        ).fetchone()
        for i, column in enumerate(columns):
            wrong, joined, count = part[3 * i : 3 * i + 3]
            if wrong or (count and not _joined_fine(column.value_kind, joined, count)):
                fine.discard(column.name)
    return fine


def _joined_fine(kind, joined, count: int) -> bool:
    """Whether the ``count`` values joined are all right (each of the length, for a fixed
    text, SQL has checked)."""
    if kind.fixed_text:
        return not joined.translate(None, kind.fixed_text[1])
    # As many commas as joined them: no value holds one, so each matched the shape alone. A
    # text that is not UTF-8 was read with replacement characters, which no shape holds.
    return joined.count(",") == count - 1 and kind.shapes.fullmatch(joined) is not None


def _parts_not_utf8(conn, table, texts, rowid) -> Iterator[tuple[int, int]]:
    """(first, last) rowid of each part of the table (TEXT_PART_ROWS rowids, read from the
    table itself) holding a text that is not UTF-8. SQLite joins a part's texts by a newline
    into one value, decoded at once (as ``_all_utf8`` decodes a batch): a part of well-formed
    rows costs one row to Python instead of TEXT_PART_ROWS."""
    joined = " || char(10) || ".join(
        f"CASE WHEN typeof({quote(c.name)}) = 'text' THEN {quote(c.name)} ELSE '' END"
        for c in texts
    )
    for first, last in _rowid_parts(conn, table, rowid, TEXT_PART_ROWS):
        (joined_texts,) = conn.execute(
            f"SELECT CAST(group_concat({joined}, char(10)) AS BLOB) FROM {quote(table.name)}"
            f" WHERE {rowid} BETWEEN ? AND ?",
            (first, last),
        ).fetchone()
        try:
            joined_texts.decode()
        except UnicodeDecodeError:
            yield first, last


def _rowid_parts(conn, table, rowid, size: int) -> Iterator[tuple[int, int]]:
    """(first, last) of successive ranges of ``size`` rowids, each holding a row, in order: a
    part of the table read through its rowid alone (a subquery counting a part's rows out
    with LIMIT cost as much again as the search it fed). A gap in the rowids is skipped in
    one step."""
    name = quote(table.name)
    (first,) = conn.execute(f"SELECT min({rowid}) FROM {name}").fetchone()
    while first is not None:
        last = min(first + size - 1, MAX_ROWID)
        yield first, last
        if last == MAX_ROWID:
            return
        (first,) = conn.execute(
            f"SELECT min({rowid}) FROM {name} WHERE {rowid} > ?", (last,)
        ).fetchone()


def _all_utf8(batch: list) -> bool:
    """Whether every text of the rows (after their key) is UTF-8, decoded at once: joined by a
    newline, which no UTF-8 sequence left open by one text can take as its continuation, the
    whole decodes exactly when each text does (the same strict decoder as one by one)."""
    try:
        b"\n".join(value for row in batch for value in row[1:] if value is not None).decode()
    except UnicodeDecodeError:
        return False
    return True


def bad_value(conn: sqlite3.Connection, table: Table, keys=None) -> BadValue | None:
    """The first value of ``problem_values``. Searched only after something failed: a copy of
    a well-formed database never pays for it."""
    values = problem_values(conn, table, keys)
    try:
        return next(values, None)
    finally:
        values.close()  # gives the connection its text factory back
