import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from dbcopy import steps
from dbcopy.exceptions import CopyRefused
from dbcopy.rollback import copy_postgres_to_sqlite
from journal import services as journal_services
from journal.models import JournalEntry
from tests.dbcopy.conftest import FILL
from tests.dbcopy.data import differences, fill
from tokens import services as token_services

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_rollback_keeps_writes_made_after_cutover(source, tmp_path, sqlite_alias):
    fill(FILL)
    steps.copy_sqlite_to_postgres(source)
    user = User.objects.order_by("pk").first()
    journal_services.insert_journal_entry(user=user, content="written on PostgreSQL \u2713")
    token_services.start_session(user=user, fingerprint="after cutover")
    back = tmp_path / "rollback.sqlite3"

    report = copy_postgres_to_sqlite(back)

    assert report.verification.ok
    rollback = sqlite_alias("rollback", back)
    assert differences("default", rollback) == {}
    assert (
        JournalEntry.objects.using(rollback).filter(content="written on PostgreSQL \u2713").exists()
    )
    assert differences(FILL, rollback).keys() == {
        "journal_journalentry",
        "journal_journalusage",
        "tokens_session",
        "tokens_refreshtoken",
    }


def test_a_rollback_file_can_be_copied_forward_again(source, tmp_path):
    fill(FILL)
    steps.copy_sqlite_to_postgres(source)
    back = tmp_path / "rollback.sqlite3"
    copy_postgres_to_sqlite(back)

    report = steps.copy_sqlite_to_postgres(back, truncate=True)

    assert report.verification.ok
    assert differences(FILL, "default") == {}


def test_rollback_refuses_an_existing_file(source, tmp_path):
    with pytest.raises(CopyRefused, match="already exists"):
        copy_postgres_to_sqlite(source)


def test_rollback_command_reports_and_verifies(source, tmp_path, capsys):
    fill(FILL)
    steps.copy_sqlite_to_postgres(source)

    call_command("copy_to_sqlite", str(tmp_path / "back.sqlite3"))

    out = capsys.readouterr().out
    assert "copied 17 tables" in out and "verified" in out
    with pytest.raises(CommandError, match="already exists"):
        call_command("copy_to_sqlite", str(tmp_path / "back.sqlite3"))
    with pytest.raises(CommandError, match="no such directory"):
        call_command("copy_to_sqlite", str(tmp_path / "missing" / "back.sqlite3"))
