"""Change capture on a live SQLite source: triggers append (table, primary key) to a change
table on every insert, update and delete, so a catch-up can replay what changed since a mark.
Replays read each changed row's current state, so they are idempotent and need no order."""

import sqlite3
from collections import defaultdict

from dbcopy.sql import quote
from dbcopy.tables import Table

CHANGE_TABLE = "dbcopy_change"


def _trigger_names(table: Table) -> dict[str, str]:
    return {op: f"dbcopy_{table.name}_{op}" for op in ("ins", "upd", "del")}


def install_capture(conn: sqlite3.Connection, tables: list[Table]) -> None:
    """Create the change table and the triggers, in one write transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {CHANGE_TABLE} ("
            "seq INTEGER PRIMARY KEY AUTOINCREMENT, table_name TEXT NOT NULL, pk NOT NULL)"
        )
        for table in tables:
            names = _trigger_names(table)
            log = f"INSERT INTO {CHANGE_TABLE} (table_name, pk) VALUES ('{table.name}', "
            pk = quote(table.pk)
            conn.execute(
                f"CREATE TRIGGER IF NOT EXISTS {quote(names['ins'])} AFTER INSERT ON "
                f"{quote(table.name)} BEGIN {log}NEW.{pk}); END"
            )
            conn.execute(
                f"CREATE TRIGGER IF NOT EXISTS {quote(names['upd'])} AFTER UPDATE ON "
                f"{quote(table.name)} BEGIN {log}OLD.{pk}); {log}NEW.{pk}); END"
            )
            conn.execute(
                f"CREATE TRIGGER IF NOT EXISTS {quote(names['del'])} AFTER DELETE ON "
                f"{quote(table.name)} BEGIN {log}OLD.{pk}); END"
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def remove_capture(conn: sqlite3.Connection, tables: list[Table]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for table in tables:
            for name in _trigger_names(table).values():
                conn.execute(f"DROP TRIGGER IF EXISTS {quote(name)}")
        conn.execute(f"DROP TABLE IF EXISTS {CHANGE_TABLE}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def capture_installed(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [CHANGE_TABLE]
    ).fetchone()
    return row is not None


def missing_triggers(conn: sqlite3.Connection, tables: list[Table]) -> list[str]:
    """The capture's triggers that are not on the source: a change made while one is gone
    reaches no catch-up."""
    present = {
        row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    }
    return [
        name for table in tables for name in _trigger_names(table).values() if name not in present
    ]


def current_mark(conn: sqlite3.Connection) -> int:
    return conn.execute(f"SELECT coalesce(max(seq), 0) FROM {CHANGE_TABLE}").fetchone()[0]


def changed_keys(conn: sqlite3.Connection, *, after: int, upto: int) -> dict[str, list]:
    """The distinct primary keys changed per table in (after, upto]."""
    changes = defaultdict(list)
    rows = conn.execute(
        f"SELECT DISTINCT table_name, pk FROM {CHANGE_TABLE} WHERE seq > ? AND seq <= ?",
        [after, upto],
    )
    for table_name, pk in rows:
        changes[table_name].append(pk)
    return dict(changes)
