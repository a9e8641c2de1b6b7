"""How much the copy reads or writes per round trip."""

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from dbcopy.sql import quote
from dbcopy.tables import Table

# Rows fetched per round trip while streaming a table, and keys per statement when rows are
# read or deleted by key (a catch-up, a row comparison, the search for a wrong value).
FETCH_ROWS = 5000
KEY_CHUNK = 500
# Rows whose texts SQLite joins into one value for the search for text that is not UTF-8
# (dbcopy.sqlite): a value past about 128 KB is memory the kernel maps and unmaps each time
# (at 1,000 rows of journal entries, half as much CPU again in the kernel as at 250).
TEXT_PART_ROWS = 250

# The array type a chunk of keys of each kind is sent to PostgreSQL as.
PG_ARRAY_TYPES = {"int": "bigint[]", "uuid": "uuid[]", "text": "text[]"}


def sqlite_keys_in(table: Table, chunk: Sequence) -> tuple[str, Sequence[Any]]:
    """SQLite's condition "the row's key is one of this chunk", and its parameters."""
    return f"{quote(table.pk)} IN ({', '.join('?' * len(chunk))})", list(chunk)


def pg_keys_in(table: Table, chunk: Sequence) -> tuple[str, Sequence[Any]]:
    """PostgreSQL's condition "the row's key is one of this chunk": one array parameter."""
    array = PG_ARRAY_TYPES[table.pk_kind]
    return f"{quote(table.pk)} = ANY(%s::{array})", [[str(k) for k in chunk]]


def key_chunks(keys: Iterable) -> Iterator[list]:
    """Keys KEY_CHUNK at a time, one statement each."""
    keys = list(keys)
    for start in range(0, len(keys), KEY_CHUNK):
        yield keys[start : start + KEY_CHUNK]
