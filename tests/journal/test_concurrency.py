import random

import pytest
from django.db.models import Count, Sum

from accounts.exceptions import AccountDeleted
from accounts.models import User
from accounts.services import delete_user
from journal import services
from journal.exceptions import EntryNotFound, QuotaExceeded
from journal.models import JournalEntry, JournalUsage
from journal.selectors import journal_usage
from tests.tokens.test_concurrency import race

THREADS = 8


def usage_and_entries(user):
    """The usage row's (bytes, entries), and what the entries themselves add up to."""
    usage = journal_usage(user=user)
    totals = JournalEntry.objects.filter(user=user).aggregate(
        size=Sum("size_bytes", default=0), count=Count("id")
    )
    return (usage.bytes_used, usage.entries), (totals["size"], totals["count"])


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_racing_writes_of_one_user_never_exceed_the_quota(user, settings, attempt):
    settings.JOURNAL_QUOTA_FREE_BYTES = 35  # room for three 10-byte entries of eight
    settings.JOURNAL_MAX_ENTRY_BYTES = 10

    outcomes = race(
        lambda: services.insert_journal_entry(user=user, content="x" * 10), count=THREADS
    )

    created = [o for o in outcomes if isinstance(o, JournalEntry)]
    refused = [o for o in outcomes if isinstance(o, QuotaExceeded)]
    assert len(created) == 3
    assert len(refused) == THREADS - 3
    # The first writes of the user: its usage row was created once, and is exact.
    assert usage_and_entries(user) == ((30, 3), (30, 3))


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_racing_updates_and_inserts_of_one_user_never_exceed_the_quota(user, settings):
    settings.JOURNAL_QUOTA_FREE_BYTES = 40
    settings.JOURNAL_MAX_ENTRY_BYTES = 20
    entries = [services.insert_journal_entry(user=user, content="x" * 5) for _ in range(4)]
    growers = iter(entries)

    def grow_or_insert():
        entry = next(growers, None)
        if entry is None:
            return services.insert_journal_entry(user=user, content="y" * 20)
        return services.update_journal_entry(user=user, entry_id=entry.pk, content="z" * 15)

    outcomes = race(grow_or_insert, count=6)

    assert all(isinstance(o, JournalEntry | QuotaExceeded) for o in outcomes), outcomes
    usage, entries = usage_and_entries(user)
    assert usage == entries
    assert usage[0] <= 40


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_racing_inserts_updates_and_deletes_near_the_quota_keep_the_usage_exact(
    user, settings, attempt
):
    settings.JOURNAL_QUOTA_FREE_BYTES = 100
    settings.JOURNAL_MAX_ENTRY_BYTES = 20
    entries = [services.insert_journal_entry(user=user, content="x" * 10) for _ in range(9)]
    # Three threads delete, three grow an entry to 20 bytes, six insert 20 bytes: in any
    # order some of them cross the quota.
    work = iter(
        [("delete", e) for e in entries[:3]]
        + [("grow", e) for e in entries[3:6]]
        + [("insert", None)] * 6
    )
    rng = random.Random(attempt)

    def write():
        kind, entry = next(work)
        if kind == "delete":
            return services.delete_journal_entry(user=user, entry_id=entry.pk)
        if kind == "grow":
            content = "g" * rng.randint(15, 20)
            return services.update_journal_entry(user=user, entry_id=entry.pk, content=content)
        return services.insert_journal_entry(user=user, content="n" * 20)

    outcomes = race(write, count=12)

    assert all(o is None or isinstance(o, JournalEntry | QuotaExceeded) for o in outcomes), outcomes
    assert any(isinstance(o, QuotaExceeded) for o in outcomes)
    usage, entries_total = usage_and_entries(user)
    assert usage == entries_total
    assert usage[0] <= 100


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_racing_deletes_of_one_entry_give_its_bytes_back_once(user):
    services.insert_journal_entry(user=user, content="kept")
    entry = services.insert_journal_entry(user=user, content="x" * 10)

    outcomes = race(
        lambda: services.delete_journal_entry(user=user, entry_id=entry.pk), count=THREADS
    )

    assert outcomes.count(None) == 1
    assert sum(isinstance(o, EntryNotFound) for o in outcomes) == THREADS - 1
    assert usage_and_entries(user) == ((4, 1), (4, 1))


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_writes_racing_the_deletion_of_their_user_are_deleted_with_it_or_refused(user, attempt):
    services.insert_journal_entry(user=user, content="first")  # the usage row exists
    # Each request loads its own user.
    work = iter(
        [("delete", User.objects.get(pk=user.pk))]
        + [("write", User.objects.get(pk=user.pk)) for _ in range(THREADS - 1)]
    )

    def act():
        kind, own = next(work)
        if kind == "delete":
            return delete_user(user=own)
        return services.insert_journal_entry(user=own, content="racing the deletion")

    outcomes = race(act, count=THREADS)

    assert all(o is None or isinstance(o, JournalEntry | AccountDeleted) for o in outcomes), (
        outcomes
    )
    assert outcomes.count(None) == 1  # the deletion itself never fails
    assert not User.objects.filter(pk=user.pk).exists()
    assert not JournalEntry.objects.filter(user_id=user.pk).exists()
    assert not JournalUsage.objects.filter(pk=user.pk).exists()
