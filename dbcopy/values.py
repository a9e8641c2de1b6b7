"""How each kind of value is written, read back and compared on either engine.

Django stores values differently in SQLite and PostgreSQL (UUIDs as 32 hex characters or
``uuid``, times as naive UTC text or ``timestamptz``, booleans as 0/1 or ``boolean``, JSON as
text or ``jsonb``). The checksum compares a canonical text of each value, built in SQL where
both engines can make the same text, and in Python for the kinds where they cannot.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal

from dbcopy.tables import Table

# Rows fetched per round trip while streaming a table, and keys per statement when rows are
# read or deleted by key (a catch-up, a row comparison, the search for a wrong value).
FETCH_ROWS = 5000
KEY_CHUNK = 500

# Kinds whose canonical text both engines can build in SQL.
SQL_CANONICAL = {"int", "bool", "text", "uuid", "datetime", "date", "duration", "binary"}

PG_ARRAY_TYPES = {"int": "bigint[]", "uuid": "uuid[]", "text": "text[]"}


def key_chunks(keys: Iterable) -> Iterator[list]:
    """Keys KEY_CHUNK at a time, one statement each."""
    keys = list(keys)
    for start in range(0, len(keys), KEY_CHUNK):
        yield keys[start : start + KEY_CHUNK]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_canonical(column: str, kind: str) -> str:
    """SQLite's canonical text of a column, as Django stored it: the value itself for the
    kinds whose text holds no comma (ids, numbers, times), ``quote()`` for text."""
    c = quote(column)
    if kind == "text":
        return f"quote({c})"  # 'it''s' or NULL: unambiguous whatever the text holds
    if kind == "binary":
        return f"CASE WHEN {c} IS NULL THEN 'N' ELSE lower(hex({c})) END"
    if kind == "datetime":
        # PostgreSQL's timestamp text: the fraction without its trailing zeros. Django writes
        # six digits or none, never ".000000" (a stored value of that shape is refused).
        trimmed = f"CASE WHEN length({c}) > 19 THEN rtrim(rtrim({c}, '0'), '.') ELSE {c} END"
        return f"coalesce({trimmed}, 'N')"
    return f"coalesce({c}, 'N')"


def pg_canonical(column: str, kind: str) -> str:
    """PostgreSQL's text of a column, equal to ``sqlite_canonical``'s for the same value as
    Django stores it in SQLite."""
    c = quote(column)
    if kind == "text":
        # SQLite's quote() spelled out: quote_literal() writes backslashes as E'...' strings.
        quoted = f"'''' || replace({c}, '''', '''''') || ''''"
        return f"CASE WHEN {c} IS NULL THEN 'NULL' ELSE {quoted} END"
    value = {
        "int": f"{c}::text",
        "bool": f"{c}::int::text",
        # The 16 bytes in hex: the 32 digits Django stores in SQLite.
        "uuid": f"encode(uuid_send({c}), 'hex')",
        # The ISO text of the UTC time (DateStyle ISO, set by target_transaction).
        "datetime": f"({c} AT TIME ZONE 'UTC')::text",
        "date": f"{c}::text",
        "duration": f"(extract(epoch from {c}) * 1000000)::bigint::text",
        "binary": f"encode({c}, 'hex')",
    }[kind]
    return f"coalesce({value}, 'N')"


def _decimal_text(value: Decimal) -> str:
    value = value.normalize()
    return "0" if value.is_zero() else format(value, "f")


def _jsonb_key(key: str) -> tuple:
    encoded = key.encode()
    return len(encoded), encoded


def jsonb_text(value) -> str:
    """The text PostgreSQL prints for a jsonb value (``jsonb::text``): keys ordered by length
    then bytes, ", " and ": " between items, numbers as numeric prints them. Building it in
    Python for SQLite's JSON lets PostgreSQL's side stay in SQL."""
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: _jsonb_key(item[0]))
        return "{" + ", ".join(f"{_json_string(k)}: {jsonb_text(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(jsonb_text(v) for v in value) + "]"
    if isinstance(value, str):
        return _json_string(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, Decimal):
        # numeric keeps the written scale (1.50), drops exponents (1e2 is 100), has no -0.
        return format(abs(value) if value.is_zero() else value, "f")
    return str(value)  # int


def _json_string(text: str) -> str:
    # Escapes exactly what jsonb escapes: quote, backslash, control characters.
    return json.dumps(text, ensure_ascii=False)


def python_canonical(value, kind: str) -> str | None:
    """Canonical text of a value compared in Python (None stays None)."""
    if value is None:
        return None
    if kind == "json":
        return jsonb_text(json.loads(value, parse_float=Decimal))
    if kind == "float":
        return repr(float(value))
    if kind == "decimal":
        return _decimal_text(Decimal(str(value)))
    if kind == "time":
        text = str(value)
        return text if "." in text else text + ".000000"
    raise ValueError(f"no canonical form for {kind}")


def _pg_quoted(sql: str) -> str:
    """In SQL, what ``row_bytes`` appends for a Python-compared value: ,N or ,'text'."""
    return (
        f"CASE WHEN {sql} IS NULL THEN ',N' ELSE ',''' || replace({sql}, '''', '''''') || '''' END"
    )


def _ordered_others(table: Table) -> list:
    # JSON first, then the rest: the same order whichever engine builds a column's text.
    others = [c for c in table.columns if c.kind not in SQL_CANONICAL]
    return [c for c in others if c.kind == "json"] + [c for c in others if c.kind != "json"]


def canonical_text(table: Table, engine: str) -> tuple[str, list]:
    """The SQL of the row's canonical text (as bytes on SQLite, sparing a decode and an encode
    per row) and the columns this engine leaves to Python, whose raw values follow it. SQLite
    builds ids, numbers, times and text; PostgreSQL also builds JSON (its jsonb text is the
    canonical form)."""
    build = sqlite_canonical if engine == "sqlite" else pg_canonical
    parts = [build(c.name, c.kind) for c in table.columns if c.kind in SQL_CANONICAL]
    sql_part = " || ',' || ".join(parts) if parts else "''"
    others = _ordered_others(table)
    if engine == "postgresql":
        in_sql = [c for c in others if c.kind == "json"]
        for column in in_sql:
            sql_part += " || " + _pg_quoted(f"{quote(column.name)}::text")
        others = [c for c in others if c.kind != "json"]
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


# Copy SQLite -> PostgreSQL: the value as COPY's text input expects it.
def to_postgres_converter(kind: str):
    if kind == "duration":
        return lambda v: None if v is None else f"{int(v)} microseconds"
    if kind == "decimal":
        return lambda v: None if v is None else str(Decimal(str(v)))
    return None


# Copy PostgreSQL -> SQLite: what psycopg returns that sqlite3 cannot bind as it is.
def to_sqlite_converter(kind: str):
    if kind == "time":
        return lambda v: None if v is None else str(v)
    if kind == "binary":
        return lambda v: None if v is None else bytes(v)
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


# A crafted or hand-edited source: values the copy cannot carry over as they are.
_DIGITS = "[0-9]"
_DATE_GLOB = "-".join(_DIGITS * n for n in (4, 2, 2))
_TIME_GLOB = ":".join(_DIGITS * 2 for _ in range(3))
_FRACTION_GLOB = "." + _DIGITS * 6


def _sqlite_date_ok(text: str) -> str:
    # Month and day in range, and the day exists in that month (SQLite moves 02-30 to 03-02).
    return (
        f"substr({text}, 1, 4) <> '0000' AND substr({text}, 6, 2) BETWEEN '01' AND '12'"
        f" AND substr({text}, 9, 2) BETWEEN '01' AND '31'"
        f" AND (substr({text}, 9, 2) <= '28' OR date({text}, '+0 days') = {text})"
    )


def _sqlite_time_ok(text: str) -> str:
    return (
        f"substr({text}, 1, 2) <= '23' AND substr({text}, 4, 2) <= '59'"
        f" AND substr({text}, 7, 2) <= '59'"
    )


def _sqlite_checks(column) -> list[tuple[str, str]]:
    """(SQL true when the value is wrong, why) for one column, NULL already excluded."""
    c = quote(column.name)
    kind = column.kind
    if kind in ("int", "duration"):
        what = "an integer" if kind == "int" else "a duration as Django stores it (microseconds)"
        checks = [(f"typeof({c}) <> 'integer'", f"not {what}")]
        if column.bounds:
            low, high = column.bounds
            checks.append((f"{c} NOT BETWEEN {low} AND {high}", f"outside {low}..{high}"))
        return checks
    if kind == "bool":
        return [(f"typeof({c}) <> 'integer' OR {c} NOT IN (0, 1)", "not a boolean (0 or 1)")]
    if kind in ("text", "json"):
        checks = [(f"typeof({c}) <> 'text'", "not text")]
        if kind == "json":
            # JSON_VALID is what Django's own CHECK constraint on SQLite asks.
            return [*checks, (f"NOT json_valid({c})", "not valid JSON")]
        nul = "holds a NUL character, which PostgreSQL refuses"
        checks.append((f"instr({c}, char(0)) > 0", nul))
        if column.max_length:
            n = column.max_length
            checks.append((f"length({c}) > {n}", f"longer than the column's {n} characters"))
        return checks
    if kind == "uuid":
        return [
            (
                f"typeof({c}) <> 'text' OR length({c}) <> 32 OR {c} GLOB '*[^0-9a-f]*'",
                "not a UUID as Django stores it (32 lowercase hex digits)",
            )
        ]
    if kind == "datetime":
        shape = f"{_DATE_GLOB} {_TIME_GLOB}"
        return [
            (
                f"NOT (typeof({c}) = 'text' AND ({c} GLOB '{shape}' OR {c} GLOB"
                f" '{shape}{_FRACTION_GLOB}') AND substr({c}, 20) <> '.000000'"
                f" AND {_sqlite_date_ok(f'substr({c}, 1, 10)')}"
                f" AND {_sqlite_time_ok(f'substr({c}, 12, 8)')})",
                "not a date and time as Django stores it (UTC 'YYYY-MM-DD HH:MM:SS[.ffffff]')",
            )
        ]
    if kind == "date":
        return [
            (
                f"NOT (typeof({c}) = 'text' AND {c} GLOB '{_DATE_GLOB}' AND {_sqlite_date_ok(c)})",
                "not a date as Django stores it ('YYYY-MM-DD')",
            )
        ]
    if kind == "time":
        return [
            (
                f"NOT (typeof({c}) = 'text' AND ({c} GLOB '{_TIME_GLOB}' OR {c} GLOB"
                f" '{_TIME_GLOB}{_FRACTION_GLOB}') AND {_sqlite_time_ok(c)})",
                "not a time of day as Django stores it ('HH:MM:SS[.ffffff]')",
            )
        ]
    if kind in ("float", "decimal"):
        what = "a number" if kind == "float" else "a decimal number"
        return [(f"typeof({c}) NOT IN ('integer', 'real')", f"not {what}")]
    if kind == "binary":
        return [(f"typeof({c}) <> 'blob'", "not binary data")]
    return []


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sqlite_problem(column) -> str | None:
    """SQL giving why the column's value in SQLite is not one Django wrote for its kind (or
    one PostgreSQL's column cannot hold), NULL when it is fine."""
    checks = _sqlite_checks(column)
    if not checks:
        return None
    whens = " ".join(f"WHEN {sql} THEN {_literal(why)}" for sql, why in checks)
    return f"CASE WHEN {quote(column.name)} IS NULL THEN NULL {whens} END"


def pg_problem(column) -> str | None:
    """SQL giving why a PostgreSQL value has no SQLite form Django can read back (infinite or
    BC times, NaN), NULL when it is fine."""
    c = quote(column.name)
    if column.kind == "datetime":
        low, high = "'0001-01-01 00:00:00+00'", "'10000-01-01 00:00:00+00'"
        why = "not a time Django can read (infinite, BC or past year 9999)"
    elif column.kind == "date":
        low, high = "'0001-01-01'", "'10000-01-01'"
        why = "not a date Django can read (infinite, BC or past year 9999)"
    elif column.kind == "decimal":
        return f"CASE WHEN {c} = 'NaN' THEN 'not a number (NaN)' END"
    else:
        return None
    return f"CASE WHEN NOT isfinite({c}) OR {c} < {low} OR {c} >= {high} THEN {_literal(why)} END"


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON PostgreSQL can hold")


def _json_strings_ok(value) -> bool:
    if isinstance(value, str):
        # jsonb refuses \u0000 and lone surrogates.
        return "\x00" not in value and not any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return all(_json_strings_ok(k) and _json_strings_ok(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_json_strings_ok(v) for v in value)
    return True


def json_problem(text) -> str | None:
    """Why a JSON text from SQLite cannot become jsonb as Django reads it, or None."""
    if not isinstance(text, str):
        return "not text"
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        return "not valid JSON"
    if not _json_strings_ok(value):
        return "JSON holding a NUL or a lone surrogate, which PostgreSQL refuses"
    return None
