"""The one search for values that SQL can tell are wrong, on either side: each column's
``CASE`` expression from its value kind (NULL when the value is fine) over the whole table or
over the rows of some keys, every finding named as a ``BadValue``. The two sides differ only
in which expression a kind gives (``Side.problem``) and in how keys and values are written in
their SQL; SQLite's search adds what SQL cannot tell (``dbcopy.sqlite.problem_values``)."""

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from dbcopy.chunks import key_chunks, pg_keys_in, sqlite_keys_in
from dbcopy.exceptions import BadValue
from dbcopy.kinds import pg_problem, sqlite_problem
from dbcopy.sql import quote
from dbcopy.tables import Column, Table


@dataclass(frozen=True)
class Side:
    # SQL giving why the column's value is wrong on this side, NULL when it is fine.
    problem: Callable[[Column], str | None]
    # How a quoted column (the key, a value shown beside its reason) is selected.
    selected: Callable[[str], str]
    # The condition "the key is one of this chunk", and its parameters.
    keys_in: Callable[[Table, list], tuple[str, Sequence[Any]]]


SQLITE = Side(problem=sqlite_problem, selected=lambda column: column, keys_in=sqlite_keys_in)
POSTGRES = Side(problem=pg_problem, selected=lambda column: f"{column}::text", keys_in=pg_keys_in)


def sql_problems(
    cursor,
    side: Side,
    table: Table,
    keys=None,
    *,
    ordered: bool = True,
    limit: int | None = None,
    known_fine: Collection[str] = (),
) -> Iterator[BadValue]:
    """Every value of the table (among ``keys`` if given, a chunk of them per statement) whose
    kind's expression gives a reason, in key order unless ``ordered`` is false (a table read in
    its storage order instead of through its key's index); at most ``limit`` rows a statement.
    ``cursor`` is a DB-API cursor of the side's connection. The columns ``known_fine`` (every
    value already shown to be right) are not searched."""
    checked = [
        (c, sql) for c in table.columns if c.name not in known_fine and (sql := side.problem(c))
    ]
    if not checked:
        return
    pk = quote(table.pk)
    problems = ", ".join(f"{sql}, {side.selected(quote(c.name))}" for c, sql in checked)
    found = f"coalesce({', '.join(sql for _, sql in checked)}, NULL) IS NOT NULL"
    order = f" ORDER BY {pk}" if ordered else ""
    limited = f" LIMIT {int(limit)}" if limit is not None else ""
    for chunk in [None] if keys is None else key_chunks(keys):
        where, params = ("", ()) if chunk is None else side.keys_in(table, chunk)
        cursor.execute(
            f"SELECT {side.selected(pk)}, {problems} FROM {quote(table.name)} WHERE {found}"
            f"{' AND ' + where if where else ''}{order}{limited}",
            params,
        )
        for row in cursor:
            for i, (column, _) in enumerate(checked):
                why, value = row[1 + 2 * i], row[2 + 2 * i]
                if why is not None:
                    yield BadValue(table.name, table.pk, column.name, row[0], value, why)
