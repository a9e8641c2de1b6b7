import sqlite3

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import F

from accounts.models import User
from dbcopy import steps
from dbcopy.exceptions import VerificationFailed
from journal.models import JournalEntry, JournalUsage
from tests.dbcopy.conftest import FILL
from tests.dbcopy.data import differences, fill, remove_entry

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def copied(source):
    fill(FILL)
    steps.copy_sqlite_to_postgres(source)
    return source


def failures_of(path, capsys):
    with pytest.raises(CommandError) as failed:
        call_command("verify_copy", str(path))
    return str(failed.value), capsys.readouterr().err


def test_verify_copy_passes_on_an_exact_copy(copied, capsys):
    call_command("verify_copy", str(copied))

    out = capsys.readouterr().out
    assert "journal_journalentry: 12 rows match" in out
    assert "verified 17 tables" in out


def test_verify_copy_catches_one_changed_value(copied, capsys):
    entry = JournalEntry.objects.order_by("pk").first()
    JournalEntry.objects.filter(pk=entry.pk).update(content=entry.content + ".")

    reason, details = failures_of(copied, capsys)

    assert reason.startswith("verification failed")
    assert "journal_journalentry: same row count (12) but the content differs" in details


def test_verify_copy_catches_a_changed_timestamp_by_one_microsecond(copied, capsys):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tokens_session SET last_used_at = last_used_at + interval '1 microsecond'"
            " WHERE id = (SELECT min(id::text)::uuid FROM tokens_session)"
        )

    _, details = failures_of(copied, capsys)

    assert "tokens_session: same row count" in details


def test_verify_copy_catches_a_changed_json_value(copied, capsys):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE subscriptions_subscriptionevent SET payload = payload || '{\"big\": 1}'"
            " WHERE event_id = 'evt_1'"
        )

    _, details = failures_of(copied, capsys)

    assert "subscriptions_subscriptionevent: same row count" in details


def test_verify_copy_catches_one_missing_row(copied, capsys):
    JournalEntry.objects.filter(pk=JournalEntry.objects.order_by("pk").first().pk).delete()

    _, details = failures_of(copied, capsys)

    assert "journal_journalentry: 12 rows in the source, 11 in the target" in details


def test_verify_copy_catches_one_extra_row(copied, capsys):
    JournalEntry.objects.create(user=User.objects.first(), content="extra", size_bytes=5)

    _, details = failures_of(copied, capsys)

    assert "journal_journalentry: 12 rows in the source, 13 in the target" in details


def test_verify_copy_reports_a_wrong_size_bytes(copied, capsys):
    JournalEntry.objects.filter(pk=JournalEntry.objects.first().pk).update(size_bytes=999_999)

    _, details = failures_of(copied, capsys)

    assert "invariant broken: 1 journal entries whose size_bytes is not the UTF-8 length" in details


USAGE_BROKEN = "users whose journal usage row is not the sum and count of their entries"


def test_verify_copy_reports_a_usage_row_that_is_not_the_sum_of_the_entries(copied, capsys):
    user = User.objects.order_by("pk").first()
    JournalUsage.objects.filter(pk=user.pk).update(bytes_used=F("bytes_used") + 1)

    _, details = failures_of(copied, capsys)

    assert f"invariant broken: 1 {USAGE_BROKEN}" in details


def test_verify_copy_reports_a_usage_row_that_miscounts_the_entries(copied, capsys):
    user = User.objects.order_by("pk").first()
    JournalUsage.objects.filter(pk=user.pk).update(entries=F("entries") - 1)

    _, details = failures_of(copied, capsys)

    assert f"invariant broken: 1 {USAGE_BROKEN}" in details


def test_verify_copy_reports_entries_without_a_usage_row(copied, capsys):
    JournalUsage.objects.filter(pk=User.objects.order_by("pk").first().pk).delete()

    _, details = failures_of(copied, capsys)

    assert f"invariant broken: 1 {USAGE_BROKEN}" in details


def test_a_source_with_a_wrong_usage_row_is_not_copied(source):
    users = fill(FILL)
    JournalUsage.objects.using(FILL).filter(pk=users[1].pk).update(bytes_used=0)
    # A usage row of a user without entries, counting some.
    for entry in JournalEntry.objects.using(FILL).filter(user_id=users[2].pk):
        remove_entry(FILL, entry_id=entry.pk)
    JournalUsage.objects.using(FILL).filter(pk=users[2].pk).update(entries=1)

    with pytest.raises(VerificationFailed, match=f"invariant broken: 2 {USAGE_BROKEN}"):
        steps.copy_sqlite_to_postgres(source)

    assert not User.objects.exists()


def test_a_subscription_in_a_state_the_webhook_never_writes_is_not_copied(source):
    fill(FILL)
    with sqlite3.connect(source) as conn:
        conn.execute(
            "UPDATE subscriptions_subscription SET status = 'paused'"
            " WHERE id = (SELECT min(id) FROM subscriptions_subscription)"
        )

    with pytest.raises(
        VerificationFailed,
        match="invariant broken: 1 subscriptions whose status is not one the webhook writes",
    ):
        steps.copy_sqlite_to_postgres(source)

    assert not User.objects.exists()


def test_verification_runs_the_invariants_an_app_declares(copied, capsys, monkeypatch):
    # An app's AppConfig declares a rule; the copy engine knows nothing of it.
    accounts = apps.get_app_config("accounts")
    rule = ("users named Mallory", User.objects.filter(email__startswith="mallory"))
    monkeypatch.setattr(accounts, "data_invariants", lambda: [rule], raising=False)
    User.objects.filter(pk=User.objects.order_by("pk").first().pk).update(
        email="mallory@example.com"
    )

    _, details = failures_of(copied, capsys)

    assert "invariant broken: 1 users named Mallory" in details


@pytest.mark.parametrize(
    "stored",
    ["2026-03-01 10:00:00", "2026-03-01 10:00:00.100000", "2026-03-01 10:00:00.000001"],
)
def test_times_verify_whatever_their_fraction(source, stored):
    # Django writes six digits of fraction, or none when the microseconds are zero.
    fill(FILL, users=1)
    with sqlite3.connect(source) as conn:
        conn.execute("UPDATE journal_journalentry SET created_at = ?", [stored])

    report = steps.copy_sqlite_to_postgres(source)

    assert report.verification.ok
    assert {e.created_at.isoformat(" ") for e in JournalEntry.objects.all()} == {stored + "+00:00"}


def test_users_who_deleted_all_their_entries_verify(source):
    users = fill(FILL)
    for entry in JournalEntry.objects.using(FILL).filter(user_id=users[0].pk):
        remove_entry(FILL, entry_id=entry.pk)
    assert JournalUsage.objects.using(FILL).get(pk=users[0].pk).entries == 0

    report = steps.copy_sqlite_to_postgres(source)

    assert report.verification.ok


def test_a_user_with_several_entitled_subscriptions_verifies(source):
    fill(FILL, users=3)
    with sqlite3.connect(source) as conn:
        conn.execute(
            "UPDATE subscriptions_subscription SET status = 'active',"
            " user_id = (SELECT min(user_id) FROM subscriptions_subscription)"
        )
        owners, active = conn.execute(
            "SELECT count(DISTINCT user_id), count(*) FROM subscriptions_subscription"
        ).fetchone()
    assert (owners, active) == (1, 3)

    report = steps.copy_sqlite_to_postgres(source)

    assert report.verification.ok
    assert differences(FILL, "default") == {}


JSON_SPELLINGS = [
    '{"b": 1e2, "a": [1.50, {"z": 0, "y": -0.0}], "aa": 1E-3, "big": 12345678901234567890}',
    '{"same": 1, "same": 2, "\\u00e9": "\\u00e9\\ud83d\\ude00", "ctl": "\\u0001\\n\\t\\"\\\\/"}',
    '[true, false, null, "", {}, [], -0, 0.000, 1.0e1, "it\'s"]',
    '"a lone string"',
    "3.14159265358979323846264338327950288",
]


@pytest.mark.parametrize("payload", JSON_SPELLINGS)
def test_any_json_spelling_verifies_after_the_copy(source, payload):
    fill(FILL, users=1)
    with sqlite3.connect(source) as conn:
        conn.execute(
            "UPDATE subscriptions_subscriptionevent SET payload = ? WHERE event_id = 'evt_0'",
            [payload],
        )

    report = steps.copy_sqlite_to_postgres(source)

    assert report.verification.ok
    assert differences(FILL, "default") == {}
