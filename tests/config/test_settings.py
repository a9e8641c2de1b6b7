from pathlib import Path

import pytest
from django.db import connection, router
from django.db.utils import ConnectionHandler

from config.database import database_config
from config.env import ConfigError, parse_auth_providers
from ops.databases import sqlite_config
from tests.processes import run_manage


def manage_check(tmp_path, **env):
    return run_manage("check", env={"SQLITE_PATH": str(tmp_path / "db.sqlite3"), **env})


def test_start_up_without_secret_key_and_debug_off_stops_with_one_line(tmp_path):
    result = manage_check(tmp_path)

    assert result.returncode != 0
    assert result.stderr.strip() == (
        "configuration error: SECRET_KEY is required when DEBUG is off (set it in the environment "
        "or in .env, which make run and make serve create; or DEBUG=1)"
    )


def test_start_up_with_debug_on_needs_no_secret_key(tmp_path):
    result = manage_check(tmp_path, DEBUG="1")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"SECRET_KEY": "k" * 49}, "SECRET_KEY must be at least 50 characters when DEBUG is off"),
        (
            {"SECRET_KEY": "k" * 50, "JWT_SIGNING_KEY": "j" * 31},
            "JWT_SIGNING_KEY must be at least 32 bytes long",
        ),
        (
            {
                "SECRET_KEY": "k" * 50,
                "SUBSCRIPTION_WEBHOOK_SECRET": "whsec_long_enough_0,whsec_15_chars",
            },
            "each SUBSCRIPTION_WEBHOOK_SECRET must be at least 16 characters when DEBUG is off",
        ),
    ],
)
def test_short_secrets_stop_start_up_with_debug_off_in_one_line(tmp_path, env, reason):
    result = manage_check(tmp_path, **env)

    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(f"configuration error: {reason}")


def test_secrets_at_the_minimum_lengths_start(tmp_path):
    result = manage_check(
        tmp_path,
        SECRET_KEY="k" * 50,
        JWT_SIGNING_KEY="j" * 32,
        SUBSCRIPTION_WEBHOOK_SECRET="w" * 16,
    )

    assert result.returncode == 0, result.stderr


def test_short_secrets_are_allowed_for_development_with_debug_on(tmp_path):
    result = manage_check(
        tmp_path, DEBUG="1", SECRET_KEY="dev", SUBSCRIPTION_WEBHOOK_SECRET="whsec_dev"
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"DB_POOL_MAX": "lots"}, "DB_POOL_MAX must be a whole number"),
        ({"DB_POOL_MAX": "0"}, "DB_POOL_MAX must be at least 1"),
        ({"DEBUG": "maybe"}, "DEBUG must be 0 or 1"),
        ({"AUTH_PROVIDERS": "{nope"}, "AUTH_PROVIDERS is not valid JSON"),
        ({"AUTH_PROVIDERS": '{"g": {"issuer": "i"}}'}, "lacks audience, jwks_uri"),
        ({"JWT_SIGNING_KEY": "short"}, "JWT_SIGNING_KEY must be at least 32 bytes"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL must be a postgres://"),
        ({"DATABASE_URL": "postgres://h"}, "DATABASE_URL must name a database"),
    ],
)
def test_bad_configuration_stops_start_up_with_one_line(tmp_path, env, reason):
    result = manage_check(tmp_path, SECRET_KEY="k" * 50, **env)

    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert reason in result.stderr


def test_postgres_url_gets_the_pool_and_the_statement_timeout():
    cfg = database_config(
        "postgres://app:pw@db.internal:6543/journal",
        sqlite_path=Path("unused"),
        pool_max=7,
        statement_timeout_ms=1234,
    )

    assert cfg["ENGINE"] == "django.db.backends.postgresql"
    assert (cfg["HOST"], cfg["PORT"], cfg["NAME"], cfg["USER"]) == (
        "db.internal",
        6543,
        "journal",
        "app",
    )
    assert cfg["OPTIONS"]["pool"]["max_size"] == 7
    assert cfg["OPTIONS"]["options"] == "-c statement_timeout=1234"
    assert cfg["CONN_MAX_AGE"] == 0


def test_no_database_url_means_sqlite_at_the_given_path(tmp_path):
    cfg = database_config(None, sqlite_path=tmp_path / "x.db", pool_max=1, statement_timeout_ms=1)

    assert cfg["ENGINE"] == "django.db.backends.sqlite3"
    assert cfg["NAME"] == str(tmp_path / "x.db")
    assert cfg["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_sqlite_file_runs_in_wal_mode_with_a_busy_timeout(tmp_path, django_db_blocker):
    handler = ConnectionHandler({"default": sqlite_config(tmp_path / "wal.db")})
    try:
        with django_db_blocker.unblock(), handler["default"].cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            journal_mode = cursor.fetchone()[0]
            cursor.execute("PRAGMA busy_timeout")
            busy_timeout = cursor.fetchone()[0]
    finally:
        handler.close_all()

    assert journal_mode == "wal"
    assert busy_timeout == 20000


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_postgres_connections_come_from_the_pool_with_the_statement_timeout():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        timeout = cursor.fetchone()[0]

    assert timeout == "5s"
    assert connection.pool is not None


def test_auth_providers_accept_one_or_several_issuers_and_audiences():
    providers = parse_auth_providers(
        {
            "google": {
                "issuer": ["https://accounts.google.com", "accounts.google.com"],
                "audience": "web-client",
                "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs",
            },
            "apple": {
                "issuer": "https://appleid.apple.com",
                "audience": ["com.example.app", "com.example.web"],
                "jwks_uri": "file:///etc/journal/apple-jwks.json",
            },
        }
    )

    assert providers["google"]["issuer"] == ["https://accounts.google.com", "accounts.google.com"]
    assert providers["google"]["audience"] == ["web-client"]
    assert providers["apple"]["audience"] == ["com.example.app", "com.example.web"]


@pytest.mark.parametrize(
    "uri", ["http://keys.example.com/jwks", "ftp://x/jwks", "jwks.json", "https://"]
)
def test_auth_providers_refuse_insecure_key_locations(uri):
    with pytest.raises(ConfigError, match="jwks_uri must be https:// or file://"):
        parse_auth_providers({"g": {"issuer": "i", "audience": "a", "jwks_uri": uri}})


def test_router_writes_only_default_and_never_migrates_the_copy_source():
    assert router.db_for_read(None) == "default"
    assert router.db_for_write(None) == "default"
    assert router.allow_migrate("default", "accounts") is True
    assert router.allow_migrate("copy_source", "accounts") is False
    assert router.allow_migrate("rollback_target", "accounts") is True
