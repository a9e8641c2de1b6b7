"""How each kind of value is written, read back and compared on either engine.

Django stores values differently in SQLite and PostgreSQL (UUIDs as 32 hex characters or
``uuid``, times as naive UTC text or ``timestamptz``, booleans as 0/1 or ``boolean``, JSON as
text or ``jsonb``). The checksum compares a canonical text of each value, built in SQL where
both engines can make the same text, and in Python for the kinds where they cannot.
"""

import hashlib
import json
from decimal import Decimal

from dbcopy.tables import Table

# Kinds whose canonical text both engines can build in SQL.
SQL_CANONICAL = {"int", "bool", "text", "uuid", "datetime", "date", "duration", "binary"}

PG_ARRAY_TYPES = {"int": "bigint[]", "uuid": "uuid[]", "text": "text[]"}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_canonical(column: str, kind: str) -> str:
    c = quote(column)
    return {
        "int": f"CAST({c} AS TEXT)",
        "bool": f"CAST({c} AS TEXT)",
        "text": f"CAST({c} AS TEXT)",
        "uuid": f"lower({c})",
        # Django writes str(datetime): no fraction when the microseconds are zero.
        "datetime": f"CASE WHEN length({c}) = 19 THEN {c} || '.000000' ELSE substr({c}, 1, 26) END",
        "date": f"CAST({c} AS TEXT)",
        "duration": f"CAST({c} AS TEXT)",
        "binary": f"lower(hex({c}))",
    }[kind]


def pg_canonical(column: str, kind: str) -> str:
    c = quote(column)
    return {
        "int": f"{c}::text",
        "bool": f"{c}::int::text",
        "text": f"{c}::text",
        "uuid": f"replace({c}::text, '-', '')",
        "datetime": f"to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
        "date": f"to_char({c}, 'YYYY-MM-DD')",
        "duration": f"(extract(epoch from {c}) * 1000000)::bigint::text",
        "binary": f"encode({c}, 'hex')",
    }[kind]


def pg_python_select(column: str, kind: str) -> str:
    """What PostgreSQL hands to Python for a kind compared in Python."""
    c = quote(column)
    return f"{c}::text" if kind == "json" else c


def _decimal_text(value: Decimal) -> str:
    value = value.normalize()
    return "0" if value.is_zero() else format(value, "f")


def _canonical_json(value):
    if isinstance(value, dict):
        return {k: _canonical_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical_json(v) for v in value]
    if isinstance(value, Decimal):
        return {"$number": _decimal_text(value)}
    return value


def python_canonical(value, kind: str) -> str | None:
    """Canonical text of a value compared in Python (None stays None)."""
    if value is None:
        return None
    if kind == "json":
        # Parse numbers exactly, so 1e2 and 100 and 100.0 compare as PostgreSQL's jsonb does.
        parsed = json.loads(value, parse_float=Decimal, parse_int=Decimal)
        return json.dumps(_canonical_json(parsed), sort_keys=True, ensure_ascii=False)
    if kind == "float":
        return repr(float(value))
    if kind == "decimal":
        return _decimal_text(Decimal(str(value)))
    if kind == "time":
        text = str(value)
        return text if "." in text else text + ".000000"
    raise ValueError(f"no canonical form for {kind}")


def _framed(text_sql: str, column: str) -> str:
    c = quote(column)
    # Length-prefixed, so no value can shift into its neighbour; NULL is distinct from any text.
    return f"CASE WHEN {c} IS NULL THEN 'N' ELSE 'V' || length({text_sql}) || ':' || {text_sql} END"


def canonical_select(table: Table, engine: str) -> tuple[str, list]:
    """SELECT list: one framed text of all SQL-canonical columns, then the raw values of the
    others (compared in Python). Returns the SQL and the Python-compared columns."""
    build = sqlite_canonical if engine == "sqlite" else pg_canonical
    framed = [
        _framed(build(c.name, c.kind), c.name) for c in table.columns if c.kind in SQL_CANONICAL
    ]
    others = [c for c in table.columns if c.kind not in SQL_CANONICAL]
    sql_part = " || ".join(framed) if framed else "''"
    raw = [
        quote(c.name) if engine == "sqlite" else pg_python_select(c.name, c.kind) for c in others
    ]
    return ", ".join([sql_part, *raw]), others


def row_text(sql_part: str, raw_values, others) -> str:
    parts = [sql_part]
    for value, column in zip(raw_values, others, strict=True):
        text = python_canonical(value, column.kind)
        parts.append("N" if text is None else f"V{len(text)}:{text}")
    return "".join(parts)


def row_hash(text: str) -> int:
    """The first 64 bits of the MD5 of the row's text, signed: what PostgreSQL computes with
    ``('x' || substr(md5(t), 1, 16))::bit(64)::bigint``."""
    return int.from_bytes(hashlib.md5(text.encode()).digest()[:8], "big", signed=True)  # noqa: S324


def pg_hash_sql(expr: str) -> str:
    return f"('x' || substr(md5({expr}), 1, 16))::bit(64)::bigint"


# Copy SQLite -> PostgreSQL: the value as COPY's text input expects it.
def to_postgres_converter(kind: str):
    if kind == "duration":
        return lambda v: None if v is None else f"{int(v)} microseconds"
    if kind == "decimal":
        return lambda v: None if v is None else str(Decimal(str(v)))
    return None


# Copy PostgreSQL -> SQLite: the value as Django stores it in SQLite, built by PostgreSQL.
def pg_to_sqlite_select(column: str, kind: str) -> str:
    c = quote(column)
    return {
        "uuid": f"replace({c}::text, '-', '')",
        "bool": f"{c}::int",
        "datetime": (
            f"regexp_replace(to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),"
            r" '\.000000$', '')"
        ),
        "date": f"to_char({c}, 'YYYY-MM-DD')",
        "json": f"{c}::text",
        "duration": f"(extract(epoch from {c}) * 1000000)::bigint",
        "decimal": f"{c}::text",
        "time": f"{c}::text",
    }.get(kind, c)
