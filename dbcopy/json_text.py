"""JSON as PostgreSQL's jsonb holds it: the text it prints (the canonical form the checksums
compare), and what it refuses that SQLite's JSON text may hold."""

import json
import re
from decimal import Decimal


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


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON PostgreSQL can hold")


# What jsonb refuses in a string: \u0000 and lone surrogates (a pair is one character once
# parsed). One search in C instead of a comparison per character in Python.
_REFUSED_IN_STRINGS = re.compile("[\x00\ud800-\udfff]")
# A parsed string holds one only if the text does, or an escape that writes one (\u0000,
# \ud800 to \udfff): a text without either needs no walk through its strings.
_MAY_WRITE_REFUSED = re.compile(r"[\x00\ud800-\udfff]|\\u(?:0000|[dD][89a-fA-F])")


def _json_strings_ok(value) -> bool:
    if isinstance(value, str):
        return _REFUSED_IN_STRINGS.search(value) is None
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
    if _MAY_WRITE_REFUSED.search(text) and not _json_strings_ok(value):
        return "JSON holding a NUL or a lone surrogate, which PostgreSQL refuses"
    return None
