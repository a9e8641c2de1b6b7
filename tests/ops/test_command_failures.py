"""Every command of the project, run as an operator runs it (a process), against a database
or a file it cannot use: one line that says why, a non-zero exit, never a traceback, and
nothing changed."""

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ops.commands import Stopped, stop_signals_raise
from tests.processes import run_manage

UNREACHABLE_PG = "postgres://postgres@127.0.0.1:1/journal"

COMMANDS = {
    "issue_tokens": ["issue_tokens", "--provider", "google", "--subject", "s1"],
    "purge_tokens": ["purge_tokens"],
    "expire_subscriptions": ["expire_subscriptions"],
}
COPY_COMMANDS = {
    "copy_from_sqlite": ["copy_from_sqlite", "SOURCE"],
    "verify_copy": ["verify_copy", "SOURCE"],
    "copy_to_sqlite": ["copy_to_sqlite", "TARGET"],
}


def manage(tmp_path, args, **env):
    base = {
        "SECRET_KEY": "x" * 50,
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "MAINTENANCE_FLAG_PATH": str(tmp_path / "maintenance.flag"),
        "DB_POOL_TIMEOUT_SECONDS": "1",
    }
    args = [
        {"SOURCE": str(tmp_path / "source.sqlite3"), "TARGET": str(tmp_path / "back.sqlite3")}.get(
            arg, arg
        )
        for arg in args
    ]
    return run_manage(*args, env={**base, **env})


def assert_one_line_failure(result, reason, label=""):
    assert result.returncode != 0, (label, result.stdout)
    assert "Traceback" not in result.stderr, (label, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("CommandError: ")]
    assert len(errors) == 1, (label, result.stderr)
    assert reason in errors[0], (label, errors[0])


def run_all(tmp_path, commands, **env):
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(manage, tmp_path, args, **env) for name, args in commands}
    return {name: future.result() for name, future in futures.items()}


def test_commands_against_an_unmigrated_database_say_so_in_one_line(tmp_path):
    results = run_all(tmp_path, COMMANDS.items())

    for name, result in results.items():
        assert_one_line_failure(result, "database error: no such table", name)


def test_commands_against_an_unreachable_postgresql_say_so_in_one_line(tmp_path):
    # A migrated SQLite source, so the copy commands get as far as the target.
    migrated = manage(tmp_path, ["migrate", "--verbosity", "0"])
    assert migrated.returncode == 0, migrated.stderr
    (tmp_path / "db.sqlite3").rename(tmp_path / "source.sqlite3")
    results = run_all(
        tmp_path, [*COMMANDS.items(), *COPY_COMMANDS.items()], DATABASE_URL=UNREACHABLE_PG
    )

    for name, result in results.items():
        # psycopg's pool may log its attempts; the command's answer is one line, with the why.
        assert_one_line_failure(result, "cannot connect to the default database: ", name)
        assert "Connection refused" in result.stderr.splitlines()[-1], name
    assert not (tmp_path / "back.sqlite3").exists()


@pytest.mark.postgres_only
def test_commands_against_a_missing_postgresql_database_fail_at_once_in_one_line(tmp_path):
    from django.conf import settings

    server = settings.DATABASES["default"]
    missing = f"postgres://{server['USER']}@{server['HOST']}:{server['PORT']}/no_such_database"
    pooler = settings.DB_POOLER or ""
    # A pool would wait this long for a connection, logging each failed attempt: commands
    # open none, so the subprocess's short timeout below is never what ends them.
    commands = [*COMMANDS.items(), ("migrate", ["migrate"]), ("showmigrations", ["showmigrations"])]
    results = {
        name: run_manage(
            *args,
            env={
                "SECRET_KEY": "x" * 50,
                "DATABASE_URL": missing,
                "DB_POOLER": pooler,
                "DB_POOL_TIMEOUT_SECONDS": "60",
            },
            timeout=20,
        )
        for name, args in commands
    }

    for name, result in results.items():
        assert "psycopg.pool" not in result.stderr, name
        if pooler:  # PgBouncer holds the login until the connect timeout: that is the reason
            assert_one_line_failure(result, "database error: ", name)
            continue
        assert_one_line_failure(result, "cannot connect to the default database: ", name)
        assert 'database "no_such_database" does not exist' in result.stderr, name


@pytest.mark.parametrize("state", ["on", "off", "status"])
def test_maintenance_with_an_unusable_flag_path_says_which_path(tmp_path, state):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")

    result = manage(tmp_path, ["maintenance", state], MAINTENANCE_FLAG_PATH=str(blocker / "flag"))

    assert_one_line_failure(
        result, f"maintenance {state}: cannot use the flag file {blocker / 'flag'}: "
    )
    assert blocker.read_text() == "not a directory\n"


def test_traceback_shows_the_original_error(tmp_path):
    result = manage(tmp_path, ["purge_tokens", "--traceback"])

    assert result.returncode != 0
    assert "Traceback" in result.stderr
    assert "no such table" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_is_raised_where_the_command_runs_and_its_handler_restored_after(signum):
    before = signal.getsignal(signum)
    cleaned_up = []

    with pytest.raises(Stopped, match=f"stopped by {signum.name}"), stop_signals_raise():
        try:
            os.kill(os.getpid(), signum)
            time.sleep(5)  # the signal interrupts the wait
        finally:
            cleaned_up.append(True)

    assert cleaned_up == [True]
    assert signal.getsignal(signum) is before
