"""Database settings shared by the wiring (``config``) and the runtime (the copy, the checks),
with no Django import, so the settings can import them.

``DB_POOLER``, what ``DATABASE_URL`` points at: ``""``, the PostgreSQL server itself;
``"pgbouncer"``, PgBouncer in transaction mode, which refuses the startup parameter that
carries the statement timeout and gives each transaction whichever server connection is free
(``ops.pooler`` checks the server behind it)."""

from pathlib import Path

from dj_database_url import DBConfig

POOLER_NONE = ""
POOLER_PGBOUNCER = "pgbouncer"
POOLERS = (POOLER_NONE, POOLER_PGBOUNCER)

SQLITE_ENGINE = "django.db.backends.sqlite3"

# Read replicas are replica_1, replica_2, ... in the order of DATABASE_REPLICA_URLS.
DB_REPLICA_PREFIX = "replica_"
DB_REPLICA_1 = f"{DB_REPLICA_PREFIX}1"


def sqlite_config(path: Path) -> DBConfig:
    """SQLite tuned for a small server: WAL so readers never block the writer, a busy
    timeout and IMMEDIATE transactions so concurrent writers queue instead of failing, and
    one connection kept by each worker instead of one opened for every request (opening one
    runs the PRAGMAs and registers Django's SQL functions: about 0.6 ms, a fifth of a
    journal write). A file has no server to restart or fail over, so there is nothing to
    check before reusing it."""
    return {
        "ENGINE": SQLITE_ENGINE,
        "NAME": str(path),
        "CONN_MAX_AGE": None,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
