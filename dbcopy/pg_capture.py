"""Change capture on PostgreSQL, for the way back while the app still writes there: a trigger
on every copied table appends (table, primary key, the writing transaction's id) to a change
table on every insert, update and delete.

A catch-up takes the changes committed between two snapshots of PostgreSQL: those visible in
the later snapshot whose transaction the earlier one did not see (``pg_visible_in_snapshot``).
A counter would not do here, unlike on SQLite (``dbcopy.capture``), where one writer runs at a
time: a transaction that takes its number before a snapshot may commit after it, and a mark
past its number would skip it. Replays read each changed row's current state, so they are
idempotent and need no order."""

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from django.db.backends.base.base import BaseDatabaseWrapper

from dbcopy import postgres
from dbcopy.sql import quote
from dbcopy.tables import Table

CHANGE_TABLE = "dbcopy_pg_change"
TRIGGER = "dbcopy_capture"


def _function(table: Table) -> str:
    return quote(f"dbcopy_capture_{table.name}")


def install(connection: BaseDatabaseWrapper, tables: list[Table]) -> None:
    """The change table, then each table's trigger in a transaction of its own: creating a
    trigger waits for the transactions writing that table, and one lock at a time cannot
    deadlock with the app's. Every change committed after a table's trigger is in place is
    captured; every one committed before is in any snapshot taken after ``install``."""
    with postgres.target_transaction(connection) as pg:
        pg.execute(
            f"CREATE TABLE IF NOT EXISTS {CHANGE_TABLE} ("
            "xid xid8 NOT NULL DEFAULT pg_current_xact_id(), "
            "table_name text NOT NULL, pk text NOT NULL)"
        )
        pg.execute(f"CREATE INDEX IF NOT EXISTS {CHANGE_TABLE}_xid ON {CHANGE_TABLE} (xid)")
    for table in tables:
        log = f"INSERT INTO {CHANGE_TABLE} (table_name, pk) VALUES ('{table.name}', "
        pk = quote(table.pk)
        with postgres.target_transaction(connection) as pg:
            pg.execute(
                f"CREATE OR REPLACE FUNCTION {_function(table)}() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN "
                f"IF TG_OP <> 'INSERT' THEN {log}OLD.{pk}::text); END IF; "
                f"IF TG_OP <> 'DELETE' THEN {log}NEW.{pk}::text); END IF; "
                "RETURN NULL; END $$"
            )
            pg.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {quote(table.name)}")
            pg.execute(
                f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON "
                f"{quote(table.name)} FOR EACH ROW EXECUTE FUNCTION {_function(table)}()"
            )


def remove(connection: BaseDatabaseWrapper, tables: list[Table]) -> None:
    for table in tables:
        with postgres.target_transaction(connection) as pg:
            pg.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {quote(table.name)}")
            pg.execute(f"DROP FUNCTION IF EXISTS {_function(table)}()")
    with postgres.target_transaction(connection) as pg:
        pg.execute(f"DROP TABLE IF EXISTS {CHANGE_TABLE}")


def installed(connection: BaseDatabaseWrapper) -> bool:
    """Whether any part of the capture is in place: the change table, or a trigger or function
    of it on any table (a command killed with SIGKILL leaves them)."""
    with postgres.target_transaction(connection) as pg:
        return pg.execute(
            "SELECT to_regclass(%s) IS NOT NULL"
            " OR EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = %s)"
            " OR EXISTS (SELECT 1 FROM pg_proc WHERE proname LIKE 'dbcopy\\_capture\\_%%')",
            [CHANGE_TABLE, TRIGGER],
        ).fetchone()[0]


@contextmanager
def capturing(connection: BaseDatabaseWrapper, tables: list[Table]) -> Iterator[None]:
    """The capture in place for the block, removed after it however it ends."""
    try:
        install(connection, tables)
        yield
    finally:
        remove(connection, tables)


def current_snapshot(pg) -> str:
    """The snapshot of ``pg``'s transaction (REPEATABLE READ: the one every read of it sees),
    as text: the mark the next catch-up starts from."""
    return pg.execute("SELECT pg_current_snapshot()::text").fetchone()[0]


_CHANGED_SINCE = (
    f"FROM {CHANGE_TABLE} WHERE xid >= pg_snapshot_xmin(%(mark)s::pg_snapshot) "
    "AND NOT pg_visible_in_snapshot(xid, %(mark)s::pg_snapshot)"
)


def changed_keys(pg, *, since: str) -> dict[str, list[str]]:
    """The distinct primary keys (as text) changed per table by the transactions visible to
    ``pg`` and not to the snapshot ``since``."""
    changes = defaultdict(list)
    for table_name, pk in pg.execute(
        f"SELECT DISTINCT table_name, pk {_CHANGED_SINCE}", {"mark": since}
    ):
        changes[table_name].append(pk)
    return dict(changes)


def changes_since(connection: BaseDatabaseWrapper, mark: str) -> int:
    """How many changes were committed after the snapshot ``mark`` (read in a new one)."""
    with postgres.target_transaction(connection) as pg:
        return pg.execute(f"SELECT count(*) {_CHANGED_SINCE}", {"mark": mark}).fetchone()[0]
