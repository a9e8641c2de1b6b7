"""DB_POOLER=pgbouncer: the statement timeout travels as the role's setting, applied by
migrate, instead of a startup parameter PgBouncer refuses; no server-side cursors."""

import uuid
from pathlib import Path

import psycopg
import pytest

from config.database import DB_DEFAULT, database_config
from ops.health import direct_connection
from tests.processes import run_manage
from tests.resilience.server import database_url_for_tests


def test_behind_pgbouncer_no_startup_options_and_no_server_side_cursors():
    cfg = database_config(
        "postgres://app@pgbouncer.internal:6432/journal",
        sqlite_path=Path("unused"),
        pool_max=5,
        statement_timeout_ms=1234,
        pooler="pgbouncer",
    )

    assert "options" not in cfg["OPTIONS"]
    assert cfg["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert cfg["OPTIONS"]["pool"]["max_size"] == 5


def test_directly_the_timeout_is_a_startup_option_and_cursors_may_be_server_side():
    cfg = database_config(
        "postgres://app@db.internal:5432/journal",
        sqlite_path=Path("unused"),
        pool_max=5,
        statement_timeout_ms=1234,
    )

    assert cfg["OPTIONS"]["options"] == "-c statement_timeout=1234"
    assert not cfg.get("DISABLE_SERVER_SIDE_CURSORS")


def test_an_unknown_pooler_stops_start_up_with_one_line(tmp_path):
    result = run_manage(
        "check",
        env={"SQLITE_PATH": str(tmp_path / "db"), "SECRET_KEY": "k" * 50, "DB_POOLER": "odyssey"},
    )

    assert result.returncode != 0
    assert result.stderr.strip() == (
        "configuration error: DB_POOLER must be 'pgbouncer' or unset, got 'odyssey'"
    )


@pytest.fixture
def scratch_database(db):
    name = f"pooler_{uuid.uuid4().hex[:12]}"
    with direct_connection(DB_DEFAULT) as server:  # autocommit: CREATE DATABASE needs it
        server.execute(f'CREATE DATABASE "{name}"')
    base = database_url_for_tests().rsplit("/", 1)[0]
    yield name, f"{base}/{name}"
    with direct_connection(DB_DEFAULT) as server:
        server.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.mark.postgres_only
def test_migrate_behind_pgbouncer_makes_the_timeout_the_roles_setting(scratch_database):
    name, url = scratch_database

    result = run_manage(
        "migrate",
        "--verbosity",
        "0",
        env={
            "DATABASE_URL": url,
            "DB_POOLER": "pgbouncer",
            "DB_STATEMENT_TIMEOUT_MS": "4321",
            "SECRET_KEY": "k" * 50,
        },
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    # A new connection that carries no option of its own starts with the role's setting.
    with psycopg.connect(url.replace("postgres://", "postgresql://")) as fresh:
        assert fresh.execute("SHOW statement_timeout").fetchone()[0] == "4321ms"


def test_migrate_of_a_sqlite_file_in_a_pgbouncer_environment_sets_no_role(tmp_path):
    # The settings' DB_POOLER may be inherited by a command migrating a SQLite file (the copy's
    # sources are made so): the role's timeout concerns PostgreSQL only.
    path = tmp_path / "source.sqlite3"

    result = run_manage(
        "migrate",
        "--verbosity",
        "0",
        env={"DB_POOLER": "pgbouncer", "SQLITE_PATH": str(path), "SECRET_KEY": "k" * 50},
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    assert "statement_timeout" not in result.stderr
    assert path.stat().st_size > 0
