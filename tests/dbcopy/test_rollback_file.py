"""The rollback's new SQLite file: private to its owner, and never written through a link."""

import os
import stat

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dbcopy import steps
from dbcopy.rollback import copy_postgres_to_sqlite
from tests.dbcopy.conftest import FILL
from tests.dbcopy.data import fill

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_rollback_file_is_readable_by_its_owner_only(source, tmp_path):
    fill(FILL)
    steps.copy_sqlite_to_postgres(source)
    back = tmp_path / "rollback.sqlite3"
    old_umask = os.umask(0o022)  # a shell's usual umask would make it 0644
    try:
        copy_postgres_to_sqlite(back)
    finally:
        os.umask(old_umask)

    assert mode(back) == 0o600
    for beside in (tmp_path / "rollback.sqlite3-wal", tmp_path / "rollback.sqlite3-shm"):
        if beside.exists():
            assert mode(beside) == 0o600


def test_a_dangling_symlink_is_refused_in_one_line_and_nothing_is_written(source, tmp_path):
    elsewhere = tmp_path / "elsewhere" / "planted.sqlite3"
    elsewhere.parent.mkdir()
    link = tmp_path / "back.sqlite3"
    link.symlink_to(elsewhere)

    with pytest.raises(CommandError, match="is a symbolic link") as refused:
        call_command("copy_to_sqlite", str(link))

    assert len(str(refused.value).splitlines()) == 1
    assert not elsewhere.exists()
    assert link.is_symlink()  # the operator's link is left as it was


def test_a_link_to_an_existing_file_is_refused_and_the_file_is_untouched(source, tmp_path):
    precious = tmp_path / "precious.sqlite3"
    precious.write_bytes(b"keep me")
    link = tmp_path / "back.sqlite3"
    link.symlink_to(precious)

    with pytest.raises(CommandError, match="is a symbolic link"):
        call_command("copy_to_sqlite", str(link))

    assert precious.read_bytes() == b"keep me"
