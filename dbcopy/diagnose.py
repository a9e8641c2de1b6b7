"""Finding the value behind a failure: when PostgreSQL refuses a row, a checksum differs or a
JSON text does not parse, the table is searched for the first value that is not of its
column's kind as Django stores it, so the failure names table, column and key. The search
runs only after something failed: a copy of a well-formed database never pays for it."""

from dbcopy.tables import Table
from dbcopy.values import (
    FETCH_ROWS,
    KEY_CHUNK,
    PG_ARRAY_TYPES,
    BadValue,
    json_problem,
    pg_problem,
    quote,
    sqlite_problem,
)


def _chunks(keys):
    if keys is None:
        yield None
        return
    keys = list(keys)
    for start in range(0, len(keys), KEY_CHUNK):
        yield keys[start : start + KEY_CHUNK]


def bad_value_in_sqlite(conn, table: Table, keys=None) -> BadValue | None:
    """The first wrong value of the table in SQLite (only among ``keys`` if given)."""
    checked = [(c, sql) for c in table.columns if (sql := sqlite_problem(c))]
    pk = quote(table.pk)
    for chunk in _chunks(keys):
        where = f" AND {pk} IN ({', '.join('?' * len(chunk))})" if chunk is not None else ""
        params = chunk or []
        if checked:
            problems = ", ".join(f"{sql}, {quote(c.name)}" for c, sql in checked)
            found = conn.execute(
                f"SELECT {pk}, {problems} FROM {quote(table.name)}"
                f" WHERE coalesce({', '.join(sql for _, sql in checked)}, NULL) IS NOT NULL"
                f"{where} ORDER BY {pk} LIMIT 1",
                params,
            ).fetchone()
            if found:
                for i, (column, _) in enumerate(checked):
                    why, value = found[1 + 2 * i], found[2 + 2 * i]
                    if why is not None:
                        return BadValue(table, column.name, found[0], value, why)
        # What SQL cannot tell: text that is not UTF-8, JSON that parses but jsonb refuses.
        for column in (c for c in table.columns if c.kind in ("text", "json")):
            rows = conn.execute(
                f"SELECT {pk}, CAST({quote(column.name)} AS BLOB) FROM {quote(table.name)}"
                f" WHERE typeof({quote(column.name)}) = 'text'{where} ORDER BY {pk}",
                params,
            )
            while batch := rows.fetchmany(FETCH_ROWS):
                for key, value in batch:
                    try:
                        value.decode()
                    except UnicodeDecodeError:
                        return BadValue(table, column.name, key, value, "text that is not UTF-8")
        for column in (c for c in table.columns if c.kind == "json"):
            rows = conn.execute(
                f"SELECT {pk}, {quote(column.name)} FROM {quote(table.name)}"
                f" WHERE {quote(column.name)} IS NOT NULL{where} ORDER BY {pk}",
                params,
            )
            while batch := rows.fetchmany(FETCH_ROWS):
                for key, value in batch:
                    if why := json_problem(value):
                        return BadValue(table, column.name, key, value, why)
    return None


def bad_value_in_postgres(pg, table: Table, keys=None) -> BadValue | None:
    """The first value of the table in PostgreSQL that has no SQLite form Django reads."""
    checked = [(c, sql) for c in table.columns if (sql := pg_problem(c))]
    if not checked:
        return None
    pk = quote(table.pk)
    problems = ", ".join(f"{sql}, {quote(c.name)}::text" for c, sql in checked)
    with pg.cursor() as cursor:
        for chunk in _chunks(keys):
            where = ""
            params = []
            if chunk is not None:
                where = f" AND {pk} = ANY(%s::{PG_ARRAY_TYPES[table.pk_kind]})"
                params = [[str(k) for k in chunk]]
            cursor.execute(
                f"SELECT {pk}::text, {problems} FROM {quote(table.name)}"
                f" WHERE coalesce({', '.join(sql for _, sql in checked)}, NULL) IS NOT NULL"
                f"{where} ORDER BY {pk} LIMIT 1",
                params,
            )
            found = cursor.fetchone()
            if found:
                for i, (column, _) in enumerate(checked):
                    why, value = found[1 + 2 * i], found[2 + 2 * i]
                    if why is not None:
                        return BadValue(table, column.name, found[0], value, why)
    return None
