"""The checksums that compare a table on both engines: the canonical text of each row (each
column's from its kind, ``dbcopy.kinds``, in SQL where both engines can build it, in Python
where they cannot), hashed the same way by both. The sum of the hashes does not depend on
row order."""

import hashlib

from dbcopy.kinds import VALUE_KINDS
from dbcopy.sql import quote
from dbcopy.tables import Table


def python_canonical(value, kind: str) -> str | None:
    """Canonical text of a value compared in Python (None stays None)."""
    if value is None:
        return None
    return VALUE_KINDS[kind].python_canonical(value)


def _pg_quoted(sql: str) -> str:
    """In SQL, what ``row_bytes`` appends for a Python-compared value: ,N or ,'text'."""
    return (
        f"CASE WHEN {sql} IS NULL THEN ',N' ELSE ',''' || replace({sql}, '''', '''''') || '''' END"
    )


def _ordered_others(table: Table) -> list:
    # JSON first, then the rest: the same order whichever engine builds a column's text.
    others = [c for c in table.columns if not c.value_kind.in_sql]
    return [c for c in others if c.value_kind.pg_text_in_sql] + [
        c for c in others if not c.value_kind.pg_text_in_sql
    ]


def canonical_text(table: Table, engine: str) -> tuple[str, list]:
    """The SQL of the row's canonical text (as bytes on SQLite, sparing a decode and an encode
    per row) and the columns this engine leaves to Python, whose raw values follow it. SQLite
    builds ids, numbers, times and text; PostgreSQL also builds JSON (its jsonb text is the
    canonical form)."""
    parts = [
        c.value_kind.sqlite_canonical(quote(c.name))
        if engine == "sqlite"
        else c.value_kind.pg_canonical(quote(c.name))
        for c in table.columns
        if c.value_kind.in_sql
    ]
    sql_part = " || ',' || ".join(parts) if parts else "''"
    others = _ordered_others(table)
    if engine == "postgresql":
        in_sql = [c for c in others if c.value_kind.pg_text_in_sql]
        for column in in_sql:
            sql_part += " || " + _pg_quoted(f"{quote(column.name)}::text")
        others = [c for c in others if not c.value_kind.pg_text_in_sql]
    else:
        sql_part = f"CAST({sql_part} AS BLOB)"
    return sql_part, others


def canonical_select(table: Table, engine: str) -> tuple[str, list]:
    """SELECT list: the canonical text of the row, then the raw values of the columns this
    engine leaves to Python. Returns the SQL and the Python-compared columns."""
    sql_part, others = canonical_text(table, engine)
    return ", ".join([sql_part, *(quote(c.name) for c in others)]), others


def row_bytes(sql_part, raw_values=(), others=()) -> bytes:
    """The bytes hashed for one row: the SQL-built text, then each Python-compared value."""
    data = sql_part if isinstance(sql_part, bytes) else sql_part.encode()
    if not others:
        return data
    parts = [data]
    for value, column in zip(raw_values, others, strict=True):
        text = python_canonical(value, column.kind)
        parts.append(b",N" if text is None else b",'" + text.replace("'", "''").encode() + b"'")
    return b"".join(parts)


def row_hash(data: bytes) -> int:
    """The first 64 bits of the MD5 of the row's bytes, signed: what PostgreSQL computes with
    ``('x' || substr(md5(t), 1, 16))::bit(64)::bigint``."""
    return int.from_bytes(hashlib.md5(data).digest()[:8], "big", signed=True)  # noqa: S324


def pg_hash_sql(expr: str) -> str:
    return f"('x' || substr(md5({expr}), 1, 16))::bit(64)::bigint"
