"""DB_POOLER=pgbouncer: no startup parameter PgBouncer refuses and no server-side cursors; the
statement timeout is PgBouncer's to set, and the app says when the server's is not
DB_STATEMENT_TIMEOUT_MS."""

from pathlib import Path

import psycopg
import pytest

from config.database import database_config
from tests.ops.test_serving import Server
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


def server_timeout_ms() -> int:
    """The statement timeout a connection to the test database starts with when it asks for
    none (behind the leg's PgBouncer: its connect_query's)."""
    url = database_url_for_tests().replace("postgres://", "postgresql://")
    with psycopg.connect(url) as fresh:
        row = fresh.execute("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
        (setting,) = row.fetchone() or ("",)
    return int(setting)


def behind_pgbouncer(timeout_ms: int) -> dict[str, str]:
    """The environment of an app told it is behind PgBouncer, on the test database (reached
    straight or through the leg's PgBouncer, whose connect_query sets the timeout)."""
    return {
        "DATABASE_URL": database_url_for_tests(),
        "DB_POOLER": "pgbouncer",
        "DB_STATEMENT_TIMEOUT_MS": str(timeout_ms),
        "SECRET_KEY": "k" * 50,
    }


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_check_names_a_server_timeout_that_is_not_the_apps_and_where_to_set_it():
    in_force = server_timeout_ms()

    other = run_manage("check", "--database", "default", env=behind_pgbouncer(in_force + 1))
    same = run_manage("check", "--database", "default", env=behind_pgbouncer(in_force))

    assert other.returncode == 0, other.stderr  # a warning: the app still serves
    assert "ops.W002" in other.stderr
    server = f"{in_force} ms" if in_force else "none"  # 0: PostgreSQL's "no timeout"
    assert (
        f"the server's is {server} behind PgBouncer, DB_STATEMENT_TIMEOUT_MS is "
        f"{in_force + 1}; set connect_query='SET statement_timeout = {in_force + 1}' on the "
        "database's line in pgbouncer.ini"
    ) in other.stderr
    assert same.returncode == 0, same.stderr
    assert "ops.W002" not in same.stderr + same.stdout
    assert "no issues" in same.stdout


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_gunicorn_warns_at_start_when_the_servers_timeout_is_not_the_apps(tmp_path):
    in_force = server_timeout_ms()
    (tmp_path / "other").mkdir()
    (tmp_path / "same").mkdir()

    with Server(tmp_path / "other", GUNICORN_WORKERS="1", **behind_pgbouncer(in_force + 7)) as a:
        pass
    with Server(tmp_path / "same", GUNICORN_WORKERS="1", **behind_pgbouncer(in_force)) as b:
        pass

    assert f"DB_STATEMENT_TIMEOUT_MS is {in_force + 7}" in a.stderr.read_text()
    assert "statement timeout" not in b.stderr.read_text()


def test_sqlite_in_a_pgbouncer_environment_has_no_timeout_to_check(tmp_path):
    # The settings' DB_POOLER may be inherited by a command migrating a SQLite file (the copy's
    # sources are made so): the server's timeout concerns PostgreSQL only.
    path = tmp_path / "source.sqlite3"

    result = run_manage(
        "migrate",
        "--verbosity",
        "0",
        env={"DB_POOLER": "pgbouncer", "SQLITE_PATH": str(path), "SECRET_KEY": "k" * 50},
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    assert "statement timeout" not in result.stderr
    assert path.stat().st_size > 0
