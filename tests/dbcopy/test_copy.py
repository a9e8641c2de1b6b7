import sqlite3

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import User
from dbcopy import steps
from dbcopy.exceptions import CopyRefused
from dbcopy.progress import Progress
from journal.models import JournalEntry
from subscriptions.models import SubscriptionEvent
from tests.dbcopy.conftest import FILL
from tests.dbcopy.data import (
    add_entry,
    copied_models,
    differences,
    fill,
    recount_usage,
    table_rows,
)
from tests.processes import run_manage
from tokens.models import RefreshToken

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def target_snapshot():
    return {m._meta.db_table: table_rows("default", m) for m in copied_models()}


def test_copy_moves_every_row_and_value_exactly(source):
    fill(FILL)

    report = steps.copy_sqlite_to_postgres(source)

    assert report.verification.ok
    assert differences(FILL, "default") == {}
    assert User.objects.count() == 3
    big = JournalEntry.objects.filter(content__contains="\\N").count()
    assert big == JournalEntry.objects.using(FILL).filter(content__contains="\\N").count() > 0


def test_ids_pointing_at_migrate_created_rows_stay_right(source):
    users = fill(FILL)

    steps.copy_sqlite_to_postgres(source)

    user = User.objects.get(pk=users[0].pk)
    assert [p.codename for p in user.user_permissions.all()] == ["view_journalentry"]
    assert user.user_permissions.get().content_type.model == "journalentry"


def test_large_texts_are_copied_whole(source):
    user = fill(FILL, users=1, entries_per_user=0)[0]
    content = ("\u00e9\t\\N\n" * 300_000)[:1_000_000]
    add_entry(FILL, user_id=user.pk, content=content)

    steps.copy_sqlite_to_postgres(source)

    assert JournalEntry.objects.get(user=user).content == content


def test_sequences_continue_after_the_copied_ids(source):
    fill(FILL)
    steps.copy_sqlite_to_postgres(source)
    highest_event = SubscriptionEvent.objects.order_by("-pk").first().pk

    event = SubscriptionEvent.objects.create(
        provider="stripe",
        event_id="new",
        type="t",
        payload={},
        outcome="processed",
        created=SubscriptionEvent.objects.first().created,
    )
    token = RefreshToken.objects.create(
        session=RefreshToken.objects.first().session,
        token_hash="f" * 64,
        created_at=event.created,
        rotated_at=event.created,
    )
    permission = Permission.objects.create(
        name="new", codename="new", content_type=Permission.objects.first().content_type
    )

    assert event.pk > highest_event
    assert token.pk and permission.pk


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(CopyRefused, match="no such file"):
        steps.copy_sqlite_to_postgres(tmp_path / "nope.sqlite3")


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    before = target_snapshot()

    with pytest.raises(CopyRefused, match="not a SQLite database"):
        steps.copy_sqlite_to_postgres(path)

    assert target_snapshot() == before


def test_a_source_with_a_migration_the_target_lacks_is_refused(source):
    fill(FILL)
    with sqlite3.connect(source) as conn:
        conn.execute(
            "INSERT INTO django_migrations (app, name, applied) "
            "VALUES ('journal', '0099_future', '2026-01-01 00:00:00')"
        )
    before = target_snapshot()

    with pytest.raises(CopyRefused) as refused:
        steps.copy_sqlite_to_postgres(source)

    assert str(refused.value) == (
        "migration journal.0099_future is applied on the source but not on the target: "
        "run `manage.py migrate` on the target first"
    )
    assert target_snapshot() == before


def test_a_source_behind_the_target_is_refused(source):
    with sqlite3.connect(source) as conn:
        conn.execute("DELETE FROM django_migrations WHERE app = 'dbcopy'")

    with pytest.raises(CopyRefused, match="dbcopy.0001_initial is applied on the target but not"):
        steps.copy_sqlite_to_postgres(source)


def test_a_target_holding_data_is_refused_without_truncate(source, user):
    fill(FILL)
    before = target_snapshot()

    with pytest.raises(CopyRefused, match="already holds data .*use --truncate"):
        steps.copy_sqlite_to_postgres(source)

    assert target_snapshot() == before
    steps.copy_sqlite_to_postgres(source, truncate=True)
    assert differences(FILL, "default") == {}
    assert not User.objects.filter(pk=user.pk).exists()


class FailHalfway(Progress):
    def rows(self, table, done, total):
        if table == "journal_journalentry" and done >= 5000:
            raise RuntimeError("interrupted")


def test_an_interrupted_copy_leaves_the_target_as_it_was(source):
    user = fill(FILL, users=1)[0]
    JournalEntry.objects.using(FILL).bulk_create(
        JournalEntry(user_id=user.pk, content="x", size_bytes=1) for _ in range(12_000)
    )
    recount_usage(FILL)
    before = target_snapshot()

    with pytest.raises(RuntimeError, match="interrupted"):
        steps.copy_sqlite_to_postgres(source, progress=FailHalfway())

    assert target_snapshot() == before
    assert not JournalEntry.objects.exists()
    # The constraints and indexes set aside during the load are all back.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'journal_journalentry'::regclass"
        )
        assert cursor.fetchone()[0] >= 3


def test_a_source_with_a_broken_foreign_key_fails_and_leaves_nothing(source):
    fill(FILL)
    with sqlite3.connect(source) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("UPDATE journal_journalentry SET user_id = 'ffffffffffffffffffffffffffffffff'")

    with pytest.raises(Exception, match="foreign key"):
        steps.copy_sqlite_to_postgres(source)

    assert not User.objects.exists()


def test_a_nul_character_stops_the_copy_naming_the_table(source):
    user = fill(FILL, users=1)[0]
    JournalEntry.objects.using(FILL).create(user_id=user.pk, content="a\x00b", size_bytes=3)

    with pytest.raises(CommandError) as failed:
        call_command("copy_from_sqlite", str(source))

    assert str(failed.value).startswith("journal_journalentry.content of the row with id = ")
    assert "holds a NUL character, which PostgreSQL refuses" in str(failed.value)
    assert str(failed.value).endswith("; the target is unchanged")
    assert not User.objects.exists()


def test_command_copies_verifies_and_summarises(source, capsys):
    fill(FILL)

    call_command("copy_from_sqlite", str(source))

    out = capsys.readouterr().out
    assert "journal_journalentry" in out
    assert "rows/s" in out
    assert "journal_journalentry: 12 rows match" in out
    assert "copied 17 tables" in out and "verified" in out


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["/nonexistent.sqlite3"], "/nonexistent.sqlite3: no such file"),
        (["SOURCE", "--catch-up", "--truncate"], "--truncate goes with a full copy only"),
        (["SOURCE", "--catch-up"], "was never copied with --capture"),
    ],
)
def test_command_refusals_are_one_line(source, args, reason):
    args = [str(source) if a == "SOURCE" else a for a in args]

    with pytest.raises(CommandError, match=reason):
        call_command("copy_from_sqlite", *args)


def manage_on_this_database(*args):
    """``manage.py`` as an operator runs it: a process, on the database the test uses."""
    target = connection.settings_dict
    url = f"postgres://{target['USER']}@{target['HOST']}:{target['PORT']}/{target['NAME']}"
    env = {"DEBUG": "1", "DATABASE_URL": url}
    if settings.DB_POOLER:  # the run goes through PgBouncer: so does the operator
        env["DB_POOLER"] = settings.DB_POOLER
    return run_manage(*args, env=env, timeout=300)


def test_the_commands_exit_zero_only_when_the_copy_is_verified(source):
    fill(FILL)

    copied = manage_on_this_database("copy_from_sqlite", str(source))
    verified = manage_on_this_database("verify_copy", str(source))
    JournalEntry.objects.filter(pk=JournalEntry.objects.first().pk).update(content="changed")
    mismatch = manage_on_this_database("verify_copy", str(source))

    assert (copied.returncode, verified.returncode) == (0, 0), copied.stderr + verified.stderr
    assert "copied 17 tables" in copied.stdout
    assert mismatch.returncode == 1
    assert "journal_journalentry" in mismatch.stderr
    assert "Traceback" not in mismatch.stderr
    assert mismatch.stderr.strip().splitlines()[-1].startswith("CommandError: verification")
