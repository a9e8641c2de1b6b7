"""A crafted or hand-edited source fails in one line naming table, column and key, and leaves
the target as it was: for every command, for every kind of wrong value."""

import re
import sqlite3

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from accounts.models import User
from dbcopy import steps
from dbcopy.models import CaptureMark
from journal.models import JournalEntry
from subscriptions.models import SubscriptionEvent
from tests.dbcopy.conftest import FILL
from tests.dbcopy.data import fill
from tests.dbcopy.test_copy import manage_on_this_database
from tokens.models import Session

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

# (table, column, the stored value, what the failure says). Some PostgreSQL refuses outright
# (the copy stops there); others it would take as a different value (a "yes" boolean, a
# "yesterday" time): the checksum catches those, and the line names the value either way.
BAD_VALUES = {
    "text in an integer column": (
        "journal_journalentry",
        "size_bytes",
        "many",
        "not an integer",
    ),
    "a boolean that is not 0 or 1": (
        "accounts_user",
        "is_active",
        "yes",
        r"not a boolean \(0 or 1\)",
    ),
    "a number out of the column's range": (
        "journal_journalentry",
        "size_bytes",
        -5,
        "outside 0..2147483647",
    ),
    "invalid JSON": (
        "subscriptions_subscriptionevent",
        "payload",
        '{"id": "evt_0", ',
        "not valid JSON",
    ),
    "JSON that PostgreSQL cannot hold": (
        "subscriptions_subscriptionevent",
        "payload",
        '{"note": "\\u0000"}',
        "JSON holding a NUL",
    ),
    "a leap day of a year that had none, which SQLite's date functions take": (
        "journal_journalentry",
        "created_at",
        "0300-02-29 10:00:00",
        "not a date and time as Django stores it",
    ),
    "a date that does not exist": (
        "tokens_session",
        "expires_at",
        "2026-02-30 10:00:00",
        "not a date and time as Django stores it",
    ),
    "a time PostgreSQL would read as another": (
        "tokens_session",
        "expires_at",
        "yesterday",
        "not a date and time as Django stores it",
    ),
    "text that is not UTF-8": (
        "journal_journalentry",
        "content",
        b"caf\xe9",
        "text that is not UTF-8",
    ),
    "text where a UUID belongs": (
        "journal_journalentry",
        "user_id",
        "NOT-A-UUID",
        "not a UUID as Django stores it",
    ),
    # SQLite's GLOB and length() stop at a NUL: what follows one must not pass unseen.
    "a UUID with a NUL and more after it": (
        "journal_journalentry",
        "user_id",
        "0" * 32 + "\x00x",
        "not a UUID as Django stores it",
    ),
    "a date and time with a NUL and more after it": (
        "tokens_session",
        "expires_at",
        "2026-02-01 10:00:00\x00x",
        "not a date and time as Django stores it",
    ),
}


def hand_edit(path, table, column, value):
    """What an operator does with the sqlite3 shell: no app, no Django, no CHECK constraint.
    Returns the key of the edited row."""
    with sqlite3.connect(path) as conn:
        key = conn.execute(f"SELECT min(id) FROM {table}").fetchone()[0]  # noqa: S608
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("PRAGMA ignore_check_constraints = ON")
        value_sql = "CAST(? AS TEXT)" if isinstance(value, bytes) else "?"
        conn.execute(
            f'UPDATE {table} SET "{column}" = {value_sql} WHERE id = ?',  # noqa: S608
            [value, key],
        )
    return key


def expected_line(table, column, key, reason, unchanged):
    return rf"^{table}\.{column} of the row with id = {key}: {reason}.*; {unchanged}$"


def _matches(message, pattern):
    assert re.match(pattern, message), f"{message!r} does not match {pattern!r}"
    return True


def one_line_failure(*args):
    with pytest.raises(CommandError) as failed:
        call_command(*args)
    message = str(failed.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("bad", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_copy_from_sqlite_names_the_bad_value_and_copies_nothing(source, bad):
    table, column, value, reason = bad
    fill(FILL)
    key = hand_edit(source, table, column, value)

    message = one_line_failure("copy_from_sqlite", str(source))

    assert _matches(message, expected_line(table, column, key, reason, "the target is unchanged"))
    assert not User.objects.exists() and not JournalEntry.objects.exists()


@pytest.mark.parametrize("bad", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_verify_copy_names_the_bad_value(source, bad):
    table, column, value, reason = bad
    fill(FILL)
    steps.copy_sqlite_to_postgres(source)
    key = hand_edit(source, table, column, value)

    message = one_line_failure("verify_copy", str(source))

    assert _matches(message, expected_line(table, column, key, reason, "nothing was changed"))


@pytest.mark.parametrize("bad", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_catch_up_names_the_bad_value_and_replays_nothing(source, bad):
    table, column, value, reason = bad
    fill(FILL)
    steps.copy_sqlite_to_postgres(source, capture_changes=True)
    mark = CaptureMark.objects.get().last_seq
    user = User.objects.order_by("pk").first()
    User.objects.using(FILL).filter(pk=user.pk).update(display_name="renamed on the source")
    key = hand_edit(source, table, column, value)  # the capture's triggers see the edit

    message = one_line_failure("copy_from_sqlite", str(source), "--catch-up")

    assert _matches(message, expected_line(table, column, key, reason, "the target is unchanged"))
    assert CaptureMark.objects.get().last_seq == mark
    assert User.objects.get(pk=user.pk).display_name == user.display_name


# PostgreSQL's types refuse text in an integer, invalid JSON or a 30th of February: what it
# holds and a SQLite file cannot say are times past either end of Python's calendar.
PG_BAD_TIMES = {
    "an infinite time": ("infinity", "not a time Django can read"),
    "a time before Christ": ("0044-03-15 12:00:00+00 BC", "not a time Django can read"),
    "a time past year 9999": ("10000-01-01 00:00:00+00", "not a time Django can read"),
}


@pytest.mark.parametrize("bad", PG_BAD_TIMES.values(), ids=PG_BAD_TIMES.keys())
def test_copy_to_sqlite_names_the_bad_value_and_leaves_no_file(source, tmp_path, bad):
    value, reason = bad
    fill(FILL)
    steps.copy_sqlite_to_postgres(source)
    session = Session.objects.order_by("pk").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tokens_session SET expires_at = %s::timestamptz WHERE id = %s",
            [value, session.pk],
        )
    back = tmp_path / "back.sqlite3"

    message = one_line_failure("copy_to_sqlite", str(back))

    unchanged = "no file was left behind"
    assert _matches(
        message, expected_line("tokens_session", "expires_at", session.pk, reason, unchanged)
    )
    assert not back.exists()


def test_verify_copy_of_invalid_json_exits_with_one_line_and_no_traceback(source):
    fill(FILL)
    steps.copy_sqlite_to_postgres(source)
    event = SubscriptionEvent.objects.order_by("pk").first()
    hand_edit(source, "subscriptions_subscriptionevent", "payload", "{not json")

    verified = manage_on_this_database("verify_copy", str(source))

    assert verified.returncode == 1
    assert "Traceback" not in verified.stderr
    assert verified.stderr.strip().splitlines() == [
        f"CommandError: subscriptions_subscriptionevent.payload of the row with id = {event.pk}:"
        " not valid JSON (found '{not json'); nothing was changed"
    ]


def test_a_row_pointing_at_no_parent_is_named_and_nothing_is_copied(source):
    # SQLite checks foreign keys only where a connection turns them on; a hand edit may not.
    fill(FILL)
    with sqlite3.connect(source) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute(
            "UPDATE journal_journalentry SET user_id = 'ffffffffffffffffffffffffffffffff'"
            " WHERE id = (SELECT min(id) FROM journal_journalentry)"
        )

    with pytest.raises(CommandError) as failed:
        call_command("copy_from_sqlite", str(source), "--no-progress")

    assert re.fullmatch(
        r'insert or update on table "journal_journalentry" violates foreign key constraint'
        r' "\S+": Key \(user_id\)=\(ffffffff-ffff-ffff-ffff-ffffffffffff\) is not present in'
        r' table "accounts_user"; the target is unchanged',
        str(failed.value),
    )
    assert not User.objects.exists()
