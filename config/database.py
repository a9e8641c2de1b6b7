"""The ``DATABASES`` entries, built from ``DATABASE_URL`` or the SQLite default."""

from pathlib import Path

import dj_database_url

from config.env import ConfigError

DB_DEFAULT = "default"
# The SQLite file copy_from_sqlite reads: read-only, never migrated.
DB_COPY_SOURCE = "copy_source"
# The new SQLite file copy_to_sqlite writes (rollback): migrated, then filled.
DB_ROLLBACK_TARGET = "rollback_target"

POSTGRES_ENGINE = "django.db.backends.postgresql"
SQLITE_ENGINE = "django.db.backends.sqlite3"


def sqlite_config(path: Path) -> dict:
    """SQLite tuned for a small server: WAL so readers never block the writer, a busy
    timeout and IMMEDIATE transactions so concurrent writers queue instead of failing."""
    return {
        "ENGINE": SQLITE_ENGINE,
        "NAME": str(path),
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def postgres_config(url: str, *, pool_max: int, statement_timeout_ms: int) -> dict:
    """PostgreSQL through psycopg 3 with Django's native pool and a statement timeout."""
    try:
        cfg = dj_database_url.parse(url)
    except ValueError as exc:
        raise ConfigError(f"DATABASE_URL is not a database URL: {exc}") from None
    if cfg.get("ENGINE") != POSTGRES_ENGINE:
        raise ConfigError("DATABASE_URL must be a postgres:// or postgresql:// URL")
    if not cfg.get("NAME"):
        raise ConfigError("DATABASE_URL must name a database (postgres://host/NAME)")
    options = cfg.setdefault("OPTIONS", {})
    # Applied by the server to every connection the pool opens.
    options["options"] = f"-c statement_timeout={statement_timeout_ms}"
    options["pool"] = {
        "min_size": 1,
        "max_size": pool_max,
        "timeout": 10,
    }
    # A pool needs persistent connections off: the pool keeps them instead.
    cfg["CONN_MAX_AGE"] = 0
    cfg["CONN_HEALTH_CHECKS"] = False
    return cfg


def database_config(
    url: str | None, *, sqlite_path: Path, pool_max: int, statement_timeout_ms: int
) -> dict:
    if url is None:
        return sqlite_config(sqlite_path)
    return postgres_config(url, pool_max=pool_max, statement_timeout_ms=statement_timeout_ms)
