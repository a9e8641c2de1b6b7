"""The SQLite database holds every journal: its files are readable by their owner only."""

import os
import stat

from tests.processes import run_manage

ENV = {"DEBUG": "1"}


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_sqlite_database_and_its_wal_are_readable_by_the_owner_only(tmp_path):
    db = tmp_path / "db.sqlite3"
    # A shell's usual umask would make them 0644: readable by every account of the host.
    old_umask = os.umask(0o022)
    try:
        result = run_manage(
            "shell",
            "-c",
            "from django.db import connection\n"
            "from accounts.services import upsert_user\n"
            "from django.core.management import call_command\n"
            "call_command('migrate', verbosity=0)\n"
            "upsert_user(provider='google', provider_subject='s', email='a@example.com')\n"
            "import os, sys\n"
            "folder = os.path.dirname(connection.settings_dict['NAME'])\n"
            "sys.stdout.write(' '.join(sorted(os.listdir(folder))))\n",
            env={**ENV, "SQLITE_PATH": str(db)},
        )
    finally:
        os.umask(old_umask)

    assert result.returncode == 0, result.stderr
    assert "db.sqlite3-wal" in result.stdout.split()  # seen while the connection was open
    assert mode(db) == 0o600
    for leftover in (tmp_path / "db.sqlite3-wal", tmp_path / "db.sqlite3-shm"):
        if leftover.exists():
            assert mode(leftover) == 0o600


def test_an_existing_database_keeps_the_mode_its_owner_gave_it(tmp_path):
    db = tmp_path / "db.sqlite3"
    db.touch(mode=0o640)
    os.chmod(db, 0o640)

    result = run_manage("migrate", "--verbosity", "0", env={**ENV, "SQLITE_PATH": str(db)})

    assert result.returncode == 0, result.stderr
    assert mode(db) == 0o640
