"""The way back while the app writes PostgreSQL: its changes captured by triggers, every row
copied from one snapshot, then caught up from the snapshot on (dbcopy.pg_capture)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connection

from accounts.models import User
from dbcopy import pg_capture, steps, switch
from dbcopy.exceptions import CopyFailed
from dbcopy.rollback import catch_up_back, create_rollback_file, fill_rollback_file
from dbcopy.tables import copied_tables
from journal import services as journal_services
from journal.models import JournalEntry
from ops.health import direct_connection
from tests.dbcopy.conftest import FILL
from tests.dbcopy.data import differences, fill
from tokens import services as token_services

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def captured(source):
    """PostgreSQL filled by a copy, its changes captured for the duration of the test."""
    fill(FILL)
    steps.copy_sqlite_to_postgres(source)
    with pg_capture.capturing(connection, copied_tables()):
        yield


def a_rollback_file(tmp_path):
    path = tmp_path / "rollback.sqlite3"
    create_rollback_file(path)
    return path


def test_writes_made_on_postgresql_during_and_after_the_copy_are_caught_up(
    captured, tmp_path, sqlite_alias
):
    path = a_rollback_file(tmp_path)
    copy = fill_rollback_file(path)
    user = User.objects.order_by("pk").first()
    kept = journal_services.insert_journal_entry(user=user, content="written during the copy")
    edited = JournalEntry.objects.exclude(pk=kept.pk).order_by("pk").first()
    journal_services.update_journal_entry(
        user=edited.user, entry_id=edited.pk, content="edited during the copy"
    )
    gone = JournalEntry.objects.exclude(pk__in=[kept.pk, edited.pk]).order_by("pk").first()
    journal_services.delete_journal_entry(user=gone.user, entry_id=gone.pk)
    token_services.start_session(user=user, fingerprint="signed in during the copy")

    first = catch_up_back(path, since=copy.mark)
    nothing = catch_up_back(path, since=first.mark)

    rollback = sqlite_alias("rollback", path)
    assert differences("default", rollback) == {}
    assert (
        JournalEntry.objects.using(rollback).get(pk=edited.pk).content == "edited during the copy"
    )
    assert not JournalEntry.objects.using(rollback).filter(pk=gone.pk).exists()
    assert first.deleted >= 1 and first.upserted >= 3
    assert nothing.changed_keys == 0


def test_a_write_that_commits_after_the_copys_snapshot_is_caught_up(
    captured, tmp_path, sqlite_alias
):
    entry = JournalEntry.objects.order_by("pk").first()
    earlier = JournalEntry.objects.exclude(pk=entry.pk).order_by("pk").last()
    path = a_rollback_file(tmp_path)
    # As a request of the app would, on a connection of its own: its transaction takes its id
    # before the copy's snapshot and commits after it (the content reversed keeps its size,
    # and so the usage, right).
    with direct_connection(DEFAULT_DB_ALIAS) as other, other.transaction():
        other.execute(
            "UPDATE journal_journalentry SET content = reverse(content) WHERE id = %s",
            [entry.pk],
        )
        # One that comes later and commits before the snapshot: in the copy already.
        journal_services.delete_journal_entry(user=earlier.user, entry_id=earlier.pk)
        copy = fill_rollback_file(path)

    round_ = catch_up_back(path, since=copy.mark)

    rollback = sqlite_alias("rollback", path)
    assert JournalEntry.objects.using(rollback).get(pk=entry.pk).content == entry.content[::-1]
    assert differences("default", rollback) == {}
    assert round_.changed_keys == 1


def test_a_change_after_the_last_catch_up_fails_the_way_back(captured, tmp_path, monkeypatch):
    path = a_rollback_file(tmp_path)
    copy = fill_rollback_file(path)
    real = switch.catch_up_back

    def then_a_write(*args, **kwargs):
        report = real(*args, **kwargs)
        entry = JournalEntry.objects.order_by("pk").first()
        journal_services.delete_journal_entry(user=entry.user, entry_id=entry.pk)
        return report

    monkeypatch.setattr(switch, "catch_up_back", then_a_write)

    with pytest.raises(CopyFailed, match=r"change\(s\) reached PostgreSQL after the last catch-up"):
        switch.final_replay_back(path, since=copy.mark)


def test_the_capture_leaves_nothing_on_postgresql(source):
    fill(FILL)
    steps.copy_sqlite_to_postgres(source)

    with pytest.raises(RuntimeError), pg_capture.capturing(connection, copied_tables()):
        raise RuntimeError("the way back failed")

    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'dbcopy%%'")
        assert cursor.fetchall() == []
        cursor.execute("SELECT proname FROM pg_proc WHERE proname LIKE 'dbcopy%%'")
        assert cursor.fetchall() == []
        cursor.execute("SELECT to_regclass(%s)", [pg_capture.CHANGE_TABLE])
        assert cursor.fetchone() == (None,)


def change_log_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {pg_capture.CHANGE_TABLE}")  # noqa: S608
        return cursor.fetchone()[0]


def test_stop_capture_removes_what_a_way_back_killed_with_sigkill_left(source):
    """SIGKILL skips the command's clean-up: its triggers go on logging every change until
    `copy_to_sqlite --stop-capture` removes them, and the change log with them."""
    fill(FILL)
    steps.copy_sqlite_to_postgres(source)
    pg_capture.install(connection, copied_tables())  # what the killed command left
    user = User.objects.order_by("pk").first()
    journal_services.insert_journal_entry(user=user, content="logged for nothing")
    assert change_log_rows() > 0

    out = StringIO()
    call_command("copy_to_sqlite", "--stop-capture", stdout=out)

    assert out.getvalue().startswith("change capture removed from PostgreSQL (")
    assert not pg_capture.installed(connection)
    journal_services.insert_journal_entry(user=user, content="written after")  # no trigger left
    again = StringIO()
    call_command("copy_to_sqlite", "--stop-capture", stdout=again)
    assert again.getvalue().startswith("no change capture on PostgreSQL (")


@pytest.mark.parametrize(
    "args",
    [["--stop-capture", "x.sqlite3"], ["--stop-capture", "--switch"], []],
    ids=["with a path", "with --switch", "no path"],
)
def test_copy_to_sqlite_refuses_arguments_that_do_not_go_together(args):
    with pytest.raises(CommandError, match="--stop-capture takes no PATH|PATH is required"):
        call_command("copy_to_sqlite", *args)
