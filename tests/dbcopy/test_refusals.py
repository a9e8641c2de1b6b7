"""Refusals that need no PostgreSQL: they hold on both legs."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from dbcopy import steps
from dbcopy.exceptions import CopyRefused
from dbcopy.rollback import copy_postgres_to_sqlite

pytestmark = pytest.mark.django_db


def test_missing_source_is_refused(tmp_path):
    with pytest.raises(CopyRefused, match="nope.sqlite3: no such file"):
        steps.copy_sqlite_to_postgres(tmp_path / "nope.sqlite3")


def test_a_directory_is_not_a_source(tmp_path):
    with pytest.raises(CopyRefused, match="not a file"):
        steps.verify_copy(tmp_path)


@pytest.mark.parametrize("content", [b"", b"hello, I am text", b"SQLite format 2\x00 and more"])
def test_a_file_that_is_not_sqlite_is_refused(tmp_path, content):
    path = tmp_path / "data.db"
    path.write_bytes(content)

    with pytest.raises(CopyRefused, match="not a SQLite database"):
        steps.copy_sqlite_to_postgres(path)


@pytest.mark.sqlite_only
def test_a_target_that_is_not_postgres_is_refused(migrated_sqlite, tmp_path):
    assert connection.vendor == "sqlite"

    with pytest.raises(CopyRefused, match="the target must be PostgreSQL"):
        steps.copy_sqlite_to_postgres(migrated_sqlite)
    with pytest.raises(CopyRefused, match="the target must be PostgreSQL"):
        copy_postgres_to_sqlite(tmp_path / "back.sqlite3")
    assert not (tmp_path / "back.sqlite3").exists()


@pytest.mark.parametrize(
    ("command", "args", "reason"),
    [
        ("copy_from_sqlite", ["/no/such.sqlite3"], "/no/such.sqlite3: no such file"),
        ("verify_copy", ["/no/such.sqlite3"], "/no/such.sqlite3: no such file"),
        ("copy_from_sqlite", ["x", "--capture", "--catch-up"], "not allowed with argument"),
        ("maintenance", ["sideways"], "invalid choice"),
    ],
)
def test_commands_refuse_with_one_line(command, args, reason):
    with pytest.raises(CommandError, match=reason):
        call_command(command, *args)
