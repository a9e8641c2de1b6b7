"""Each kind of value the copy moves, as an object carrying everything the copy knows about
it: its canonical text on either engine (what the checksums compare), its conversions each
way, and the checks that find a value Django did not write (or that the other engine cannot
hold). A new field type is one class here and one line in ``dbcopy.tables.KINDS``.

Django stores values differently in SQLite and PostgreSQL (UUIDs as 32 hex characters or
``uuid``, times as naive UTC text or ``timestamptz``, booleans as 0/1 or ``boolean``, JSON as
text or ``jsonb``). The canonical text is built in SQL where both engines can make the same
text (``in_sql``), and in Python for the kinds where they cannot (``python_canonical``).

Every method that writes SQL takes the column's name already quoted (``c``).
"""

import json
import re
from collections.abc import Callable
from decimal import Decimal
from functools import cached_property
from typing import Any

from dbcopy.json_text import jsonb_text
from dbcopy.sql import literal, quote

# A crafted or hand-edited source: values the copy cannot carry over as they are.
_DIGITS = "[0-9]"
_HEX_DIGIT = "[0-9a-f]"
_DATE_GLOB = "-".join(_DIGITS * n for n in (4, 2, 2))
# Minutes and seconds 00 to 59 by their first digit; the hour is compared (_sqlite_hour_ok).
_TIME_GLOB = f"{_DIGITS * 2}:[0-5]{_DIGITS}:[0-5]{_DIGITS}"
_FRACTION_GLOB = "." + _DIGITS * 6
# The same in Python's terms, month by month and with the leap years of the Gregorian
# calendar (PostgreSQL's), for the kinds' ``shape``.
_MONTH_DAY_SHAPE = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)"
    r"|02-(?:0[1-9]|1\d|2[0-8]))"
)
_LEAP_DAY_SHAPE = r"(?:\d\d(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29"
_DATE_SHAPE = rf"(?!0000)(?:\d{{4}}-{_MONTH_DAY_SHAPE}|{_LEAP_DAY_SHAPE})"
_TIME_SHAPE = r"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d"

Converter = Callable[[Any], Any] | None
Check = tuple[str, str]  # (SQL true when the value is wrong, why), NULL already excluded


def _sqlite_date_ok(c: str) -> str:
    """The date in the first ten characters of ``c`` exists: month and day in range, and the
    day in that month (SQLite moves 02-30 to 03-02). Each part is read from the column itself,
    one substr() each (a substr of a substr cost the journal's scan a third more). SQLite's
    date functions also take 0300-02-29 for a day, the one date of years 1 to 9999 where they
    and the Gregorian calendar (PostgreSQL's, and Python's) disagree: 300 was no leap year."""
    date = f"substr({c}, 1, 10)"
    return (
        f"substr({c}, 1, 4) <> '0000' AND substr({c}, 6, 2) BETWEEN '01' AND '12'"
        f" AND substr({c}, 9, 2) BETWEEN '01' AND '31'"
        f" AND (substr({c}, 9, 2) <= '28'"
        f" OR (date({date}, '+0 days') = {date} AND {date} <> '0300-02-29'))"
    )


def _sqlite_hour_ok(c: str, start: int) -> str:
    """The hour at character ``start`` of ``c`` is in range (``_TIME_GLOB`` checks the rest)."""
    return f"substr({c}, {start}, 2) <= '23'"


def _glob_length(glob: str) -> int:
    """The characters a text matching ``glob`` has: one per character class or character."""
    return len(re.sub(r"\[[^]]*\]", "?", glob))


def _bytes(c: str) -> str:
    """The length of ``c`` in bytes. SQLite's length() of a text, its GLOB and its substr()
    stop at a NUL character; a shape of ASCII characters is as many bytes as characters, so
    a value of the right length in bytes that matches the GLOB holds no NUL."""
    return f"length(CAST({c} AS BLOB))"


def _sqlite_shape(c: str, shape: str) -> str:
    """``c`` is text of ``shape`` (GLOB), with or without ``_FRACTION_GLOB`` after it. Its
    length picks the one GLOB that can match, instead of trying both on every value with a
    fraction."""
    length = _glob_length(shape)
    fraction = length + _glob_length(_FRACTION_GLOB)
    return (
        f"typeof({c}) = 'text' AND CASE {_bytes(c)} WHEN {length} THEN {c} GLOB '{shape}'"
        f" WHEN {fraction} THEN {c} GLOB '{shape}{_FRACTION_GLOB}' ELSE 0 END"
    )


def _pg_out_of_range(c: str, low: str, high: str, why: str) -> str:
    return f"CASE WHEN NOT isfinite({c}) OR {c} < {low} OR {c} >= {high} THEN {literal(why)} END"


class ValueKind:
    name = ""
    #: Whether both engines build its canonical text in SQL (else Python compares it).
    in_sql = True
    #: Whether PostgreSQL alone builds it in SQL (its text is the canonical form), so only
    #: SQLite's side is built in Python.
    pg_text_in_sql = False
    #: Read as text from SQLite (the search for text that is not UTF-8 reads it).
    textual = False
    #: JSON text in SQLite, which jsonb must accept (``dbcopy.json_text.json_problem``).
    json_text = False
    #: Whether PostgreSQL's column bounds its length (``max_length``).
    bounded_length = False
    #: What a whole table's search can tell in Python, many values at once (``dbcopy.sqlite``),
    #: instead of one ``sqlite_checks`` at a time. ``fixed_text``: (bytes, alphabet) when a
    #: non-NULL value is right exactly when it is text of that many bytes, each one of the
    #: alphabet. ``shape``: a regular expression (ASCII) that a text matches exactly when
    #: ``sqlite_checks`` finds nothing wrong with it (tests/dbcopy/test_value_checks.py holds
    #: the two to the same answer over generated values).
    fixed_text: tuple[int, bytes] | None = None
    shape: str | None = None

    @cached_property
    def shapes(self) -> re.Pattern:
        """Texts of ``shape`` joined by commas (which no shape holds)."""
        return re.compile(f"(?:{self.shape},)*{self.shape}", re.ASCII)

    #: Copy SQLite -> PostgreSQL: the value as COPY's text input expects it.
    to_postgres: Converter = None
    #: Copy PostgreSQL -> SQLite: what psycopg returns that sqlite3 cannot bind as it is.
    to_sqlite: Converter = None

    def sqlite_canonical(self, c: str) -> str:
        """SQLite's canonical text of the column, as Django stored it: the value itself for
        the kinds whose text holds no comma (ids, numbers, times)."""
        return f"coalesce({c}, 'N')"

    def pg_text(self, c: str) -> str:
        """PostgreSQL's text of a non-NULL value, equal to SQLite's canonical text."""
        raise NotImplementedError(self.name)

    def pg_canonical(self, c: str) -> str:
        return f"coalesce({self.pg_text(c)}, 'N')"

    def python_canonical(self, value: Any) -> str:
        """Canonical text of a non-NULL value compared in Python."""
        raise ValueError(f"no canonical form for {self.name}")

    def as_postgres_compares(self, c: str) -> str:
        """In SQLite, the value as PostgreSQL's unique indexes compare it."""
        return self.sqlite_canonical(c)

    def key_text(self, text: str) -> str:
        """A primary key of this kind as text, the same from either engine."""
        return text

    def pg_to_sqlite_select(self, c: str) -> str:
        """Copy PostgreSQL -> SQLite: the value as Django stores it in SQLite, built by
        PostgreSQL."""
        return c

    def sqlite_checks(self, c: str, column: Any) -> list[Check]:
        return []

    def pg_problem(self, c: str) -> str | None:
        """SQL giving why a PostgreSQL value has no SQLite form Django can read back, NULL
        when it is fine; ``None`` when every value has one."""
        return None


class Integer(ValueKind):
    name = "int"
    what = "an integer"

    def pg_text(self, c: str) -> str:
        return f"{c}::text"

    def sqlite_checks(self, c: str, column: Any) -> list[Check]:
        checks = [(f"typeof({c}) <> 'integer'", f"not {self.what}")]
        if column.bounds:
            low, high = column.bounds
            checks.append((f"{c} NOT BETWEEN {low} AND {high}", f"outside {low}..{high}"))
        return checks


class Duration(Integer):
    name = "duration"
    what = "a duration as Django stores it (microseconds)"
    to_postgres = staticmethod(lambda v: None if v is None else f"{int(v)} microseconds")

    def pg_text(self, c: str) -> str:
        return f"(extract(epoch from {c}) * 1000000)::bigint::text"

    def pg_to_sqlite_select(self, c: str) -> str:
        return f"(extract(epoch from {c}) * 1000000)::bigint"


class Boolean(ValueKind):
    name = "bool"

    def pg_text(self, c: str) -> str:
        return f"{c}::int::text"

    def pg_to_sqlite_select(self, c: str) -> str:
        return f"{c}::int"

    def sqlite_checks(self, c: str, column: Any) -> list[Check]:
        return [(f"typeof({c}) <> 'integer' OR {c} NOT IN (0, 1)", "not a boolean (0 or 1)")]


class Text(ValueKind):
    name = "text"
    textual = True
    bounded_length = True

    def sqlite_canonical(self, c: str) -> str:
        return f"quote({c})"  # 'it''s' or NULL: unambiguous whatever the text holds

    def pg_canonical(self, c: str) -> str:
        # SQLite's quote() spelled out: quote_literal() writes backslashes as E'...' strings.
        quoted = f"'''' || replace({c}, '''', '''''') || ''''"
        return f"CASE WHEN {c} IS NULL THEN 'NULL' ELSE {quoted} END"

    def sqlite_checks(self, c: str, column: Any) -> list[Check]:
        nul = "holds a NUL character, which PostgreSQL refuses"
        checks = [(f"typeof({c}) <> 'text'", "not text"), (f"instr({c}, char(0)) > 0", nul)]
        if column.max_length:
            n = column.max_length
            checks.append((f"length({c}) > {n}", f"longer than the column's {n} characters"))
        return checks


class Json(ValueKind):
    name = "json"
    in_sql = False
    pg_text_in_sql = True
    textual = True
    json_text = True

    def python_canonical(self, value: Any) -> str:
        return jsonb_text(json.loads(value, parse_float=Decimal))

    def pg_to_sqlite_select(self, c: str) -> str:
        return f"{c}::text"

    def sqlite_checks(self, c: str, column: Any) -> list[Check]:
        # JSON_VALID is what Django's own CHECK constraint on SQLite asks.
        return [(f"typeof({c}) <> 'text'", "not text"), (f"NOT json_valid({c})", "not valid JSON")]


class Uuid(ValueKind):
    name = "uuid"
    fixed_text = (32, b"0123456789abcdef")

    def pg_text(self, c: str) -> str:
        # The 16 bytes in hex: the 32 digits Django stores in SQLite.
        return f"encode(uuid_send({c}), 'hex')"

    def as_postgres_compares(self, c: str) -> str:
        # A uuid whatever its case or dashes.
        return f"lower(replace({c}, '-', ''))"

    def key_text(self, text: str) -> str:
        return text.replace("-", "")  # as SQLite holds them

    def pg_to_sqlite_select(self, c: str) -> str:
        return f"replace({c}::text, '-', '')"

    def sqlite_checks(self, c: str, column: Any) -> list[Check]:
        # One GLOB over the 32 digits: a shorter or longer text cannot match it (the same
        # result as length() and a search for a wrong digit, a tenth less time); 32 bytes, so
        # nothing hides after a NUL, where the GLOB stops.
        return [
            (
                f"typeof({c}) <> 'text' OR {_bytes(c)} <> 32 OR NOT {c} GLOB '{_HEX_DIGIT * 32}'",
                "not a UUID as Django stores it (32 lowercase hex digits)",
            )
        ]


class DateTime(ValueKind):
    name = "datetime"
    shape = rf"{_DATE_SHAPE} {_TIME_SHAPE}(?:\.(?!000000)\d{{6}})?"

    def sqlite_canonical(self, c: str) -> str:
        # PostgreSQL's timestamp text: the fraction without its trailing zeros. Django writes
        # six digits or none, never ".000000" (a stored value of that shape is refused).
        trimmed = f"CASE WHEN length({c}) > 19 THEN rtrim(rtrim({c}, '0'), '.') ELSE {c} END"
        return f"coalesce({trimmed}, 'N')"

    def pg_text(self, c: str) -> str:
        # The ISO text of the UTC time (DateStyle ISO, set by target_transaction).
        return f"({c} AT TIME ZONE 'UTC')::text"

    def pg_to_sqlite_select(self, c: str) -> str:
        return (
            f"regexp_replace(to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),"
            r" '\.000000$', '')"
        )

    def sqlite_checks(self, c: str, column: Any) -> list[Check]:
        shape = f"{_DATE_GLOB} {_TIME_GLOB}"
        return [
            (
                f"NOT ({_sqlite_shape(c, shape)} AND substr({c}, 20) <> '.000000'"
                f" AND {_sqlite_date_ok(c)} AND {_sqlite_hour_ok(c, 12)})",
                "not a date and time as Django stores it (UTC 'YYYY-MM-DD HH:MM:SS[.ffffff]')",
            )
        ]

    def pg_problem(self, c: str) -> str | None:
        return _pg_out_of_range(
            c,
            "'0001-01-01 00:00:00+00'",
            "'10000-01-01 00:00:00+00'",
            "not a time Django can read (infinite, BC or past year 9999)",
        )


class Date(ValueKind):
    name = "date"
    shape = _DATE_SHAPE

    def pg_text(self, c: str) -> str:
        return f"{c}::text"

    def pg_to_sqlite_select(self, c: str) -> str:
        return f"to_char({c}, 'YYYY-MM-DD')"

    def sqlite_checks(self, c: str, column: Any) -> list[Check]:
        return [
            (
                f"NOT (typeof({c}) = 'text' AND {_bytes(c)} = 10 AND {c} GLOB '{_DATE_GLOB}'"
                f" AND {_sqlite_date_ok(c)})",
                "not a date as Django stores it ('YYYY-MM-DD')",
            )
        ]

    def pg_problem(self, c: str) -> str | None:
        return _pg_out_of_range(
            c,
            "'0001-01-01'",
            "'10000-01-01'",
            "not a date Django can read (infinite, BC or past year 9999)",
        )


class Time(ValueKind):
    name = "time"
    in_sql = False
    to_sqlite = staticmethod(lambda v: None if v is None else str(v))

    def python_canonical(self, value: Any) -> str:
        text = str(value)
        return text if "." in text else text + ".000000"

    def pg_to_sqlite_select(self, c: str) -> str:
        return f"{c}::text"

    def sqlite_checks(self, c: str, column: Any) -> list[Check]:
        return [
            (
                f"NOT ({_sqlite_shape(c, _TIME_GLOB)} AND {_sqlite_hour_ok(c, 1)})",
                "not a time of day as Django stores it ('HH:MM:SS[.ffffff]')",
            )
        ]


class Float(ValueKind):
    name = "float"
    in_sql = False
    what = "a number"

    def python_canonical(self, value: Any) -> str:
        return repr(float(value))

    def sqlite_checks(self, c: str, column: Any) -> list[Check]:
        return [(f"typeof({c}) NOT IN ('integer', 'real')", f"not {self.what}")]


class DecimalNumber(Float):
    name = "decimal"
    what = "a decimal number"
    to_postgres = staticmethod(lambda v: None if v is None else str(Decimal(str(v))))

    def python_canonical(self, value: Any) -> str:
        number = Decimal(str(value)).normalize()
        return "0" if number.is_zero() else format(number, "f")

    def pg_to_sqlite_select(self, c: str) -> str:
        return f"{c}::text"

    def pg_problem(self, c: str) -> str | None:
        return f"CASE WHEN {c} = 'NaN' THEN 'not a number (NaN)' END"


class Binary(ValueKind):
    name = "binary"
    to_sqlite = staticmethod(lambda v: None if v is None else bytes(v))

    def sqlite_canonical(self, c: str) -> str:
        return f"CASE WHEN {c} IS NULL THEN 'N' ELSE lower(hex({c})) END"

    def pg_text(self, c: str) -> str:
        return f"encode({c}, 'hex')"

    def sqlite_checks(self, c: str, column: Any) -> list[Check]:
        return [(f"typeof({c}) <> 'blob'", "not binary data")]


VALUE_KINDS: dict[str, ValueKind] = {
    kind.name: kind
    for kind in (
        Integer(),
        Duration(),
        Boolean(),
        Text(),
        Json(),
        Uuid(),
        DateTime(),
        Date(),
        Time(),
        Float(),
        DecimalNumber(),
        Binary(),
    )
}


def sqlite_problem(column: Any) -> str | None:
    """SQL giving why the column's value in SQLite is not one Django wrote for its kind (or
    one PostgreSQL's column cannot hold), NULL when it is fine."""
    c = quote(column.name)
    checks = column.value_kind.sqlite_checks(c, column)
    if not checks:
        return None
    whens = " ".join(f"WHEN {sql} THEN {literal(why)}" for sql, why in checks)
    return f"CASE WHEN {c} IS NULL THEN NULL {whens} END"


def pg_problem(column: Any) -> str | None:
    """SQL giving why a PostgreSQL value has no SQLite form Django can read back (infinite or
    BC times, NaN), NULL when it is fine."""
    return column.value_kind.pg_problem(quote(column.name))
