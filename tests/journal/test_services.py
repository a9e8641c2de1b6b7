import re
import uuid

import pytest
from django.db import connection
from django.db.models import Count, QuerySet, Sum
from django.test.utils import CaptureQueriesContext

from journal import selectors, services
from journal.exceptions import EntryNotFound, EntryTooLarge, QuotaExceeded
from journal.models import JournalEntry, JournalUsage
from journal.selectors import journal_usage

pytestmark = pytest.mark.django_db


def test_insert_measures_size_in_utf8_bytes(user):
    entry = services.insert_journal_entry(user=user, content="h\u00e9llo \U0001f600")

    assert entry.size_bytes == len("h\u00e9llo \U0001f600".encode()) == 11
    assert JournalEntry.objects.get(pk=entry.pk).content == "h\u00e9llo \U0001f600"


def test_entry_over_the_size_limit_is_refused(user, settings):
    settings.JOURNAL_MAX_ENTRY_BYTES = 10

    services.insert_journal_entry(user=user, content="a" * 10)
    # Five characters, but twelve bytes.
    with pytest.raises(EntryTooLarge, match="12 bytes"):
        services.insert_journal_entry(user=user, content="\u20ac" * 4)

    assert JournalEntry.objects.count() == 1


def test_quota_counts_bytes_and_refuses_the_entry_that_crosses_it(user, settings):
    settings.JOURNAL_QUOTA_FREE_BYTES = 20

    services.insert_journal_entry(user=user, content="\u00e9" * 5)  # 10 bytes
    services.insert_journal_entry(user=user, content="x" * 10)  # exactly at the quota
    with pytest.raises(QuotaExceeded):
        services.insert_journal_entry(user=user, content="y")

    assert journal_usage(user=user).bytes_used == 20


def test_a_first_write_that_loses_the_race_for_the_usage_row_is_stored(user, monkeypatch):
    # Two first writes of one user: this one's UPDATE finds no usage row, and the twin creates
    # it (committed) before this one reads it. The write fits, so it is stored, not refused.
    update = QuerySet.update
    twin = {"done": False}

    def update_then_twin_commits(queryset, **kwargs):
        moved = update(queryset, **kwargs)
        if queryset.model is JournalUsage and not moved and not twin["done"]:
            twin["done"] = True
            JournalUsage.objects.create(user=user, bytes_used=7, entries=1)
        return moved

    monkeypatch.setattr(QuerySet, "update", update_then_twin_commits)

    services.insert_journal_entry(user=user, content="x" * 10)

    assert twin["done"]
    usage = JournalUsage.objects.get(user=user)
    assert (usage.bytes_used, usage.entries) == (17, 2)


def test_quota_is_per_user(user, other_user, settings):
    settings.JOURNAL_QUOTA_FREE_BYTES = 5
    services.insert_journal_entry(user=user, content="12345")

    services.insert_journal_entry(user=other_user, content="12345")

    assert journal_usage(user=other_user).bytes_used == 5


def test_active_or_grace_subscription_lifts_the_quota(user, other_user, settings, premium):
    settings.JOURNAL_QUOTA_FREE_BYTES = 5
    settings.JOURNAL_QUOTA_PREMIUM_BYTES = 50
    premium(user, status="active")
    premium(other_user, status="grace")

    services.insert_journal_entry(user=user, content="x" * 40)
    services.insert_journal_entry(user=other_user, content="x" * 40)

    with pytest.raises(QuotaExceeded):
        services.insert_journal_entry(user=user, content="x" * 11)


def test_canceled_subscription_gives_the_free_quota(user, settings, premium):
    settings.JOURNAL_QUOTA_FREE_BYTES = 5
    premium(user, status="canceled")

    with pytest.raises(QuotaExceeded):
        services.insert_journal_entry(user=user, content="x" * 6)


def test_update_gives_the_old_bytes_back_before_checking(user, settings):
    settings.JOURNAL_QUOTA_FREE_BYTES = 10
    entry = services.insert_journal_entry(user=user, content="x" * 8)

    updated = services.update_journal_entry(user=user, entry_id=entry.pk, content="y" * 10)

    assert updated.size_bytes == 10
    assert journal_usage(user=user).bytes_used == 10
    with pytest.raises(QuotaExceeded):
        services.update_journal_entry(user=user, entry_id=entry.pk, content="z" * 11)
    assert JournalEntry.objects.get(pk=entry.pk).content == "y" * 10


def test_shrinking_an_entry_is_allowed_even_over_quota(user, settings):
    entry = services.insert_journal_entry(user=user, content="x" * 8)
    settings.JOURNAL_QUOTA_FREE_BYTES = 4  # the quota dropped below what is stored

    services.update_journal_entry(user=user, entry_id=entry.pk, content="x" * 6)

    assert journal_usage(user=user).bytes_used == 6


def test_update_over_the_entry_limit_is_refused(user, settings):
    settings.JOURNAL_MAX_ENTRY_BYTES = 4
    entry = services.insert_journal_entry(user=user, content="abcd")

    with pytest.raises(EntryTooLarge):
        services.update_journal_entry(user=user, entry_id=entry.pk, content="abc\u00e9")


def test_delete_gives_the_bytes_back(user, settings):
    settings.JOURNAL_QUOTA_FREE_BYTES = 10
    entry = services.insert_journal_entry(user=user, content="x" * 10)

    services.delete_journal_entry(user=user, entry_id=entry.pk)

    assert journal_usage(user=user).bytes_used == 0
    services.insert_journal_entry(user=user, content="y" * 10)


def test_another_users_entry_cannot_be_updated_or_deleted(user, other_user):
    entry = services.insert_journal_entry(user=other_user, content="theirs")

    with pytest.raises(EntryNotFound):
        services.update_journal_entry(user=user, entry_id=entry.pk, content="mine")
    with pytest.raises(EntryNotFound):
        services.delete_journal_entry(user=user, entry_id=entry.pk)

    assert JournalEntry.objects.get(pk=entry.pk).content == "theirs"


def test_unknown_entry_is_not_found(user):
    with pytest.raises(EntryNotFound):
        services.delete_journal_entry(user=user, entry_id=uuid.uuid4())


def usage_of(user):
    usage = selectors.journal_usage(user=user)
    return usage.bytes_used, usage.entries


def entries_of(user):
    """What the user's entries add up to, counted from the entries themselves."""
    totals = JournalEntry.objects.filter(user=user).aggregate(
        size=Sum("size_bytes", default=0), count=Count("id")
    )
    return totals["size"], totals["count"]


def test_usage_follows_inserts_updates_and_deletes(user, other_user):
    first = services.insert_journal_entry(user=user, content="x" * 10)
    second = services.insert_journal_entry(user=user, content="\u00e9" * 3)
    services.insert_journal_entry(user=other_user, content="theirs")
    assert usage_of(user) == entries_of(user) == (16, 2)

    services.update_journal_entry(user=user, entry_id=first.pk, content="x" * 25)
    assert usage_of(user) == entries_of(user) == (31, 2)
    services.update_journal_entry(user=user, entry_id=first.pk, content="x")
    assert usage_of(user) == entries_of(user) == (7, 2)
    services.delete_journal_entry(user=user, entry_id=second.pk)
    assert usage_of(user) == entries_of(user) == (1, 1)
    services.delete_journal_entry(user=user, entry_id=first.pk)

    assert usage_of(user) == entries_of(user) == (0, 0)
    assert usage_of(other_user) == entries_of(other_user) == (6, 1)


def test_refused_writes_leave_the_usage_as_it_was(user, other_user, settings):
    settings.JOURNAL_QUOTA_FREE_BYTES = 12
    settings.JOURNAL_MAX_ENTRY_BYTES = 10
    entry = services.insert_journal_entry(user=user, content="x" * 10)
    theirs = services.insert_journal_entry(user=other_user, content="y" * 4)

    for refused, write in [
        (QuotaExceeded, lambda: services.insert_journal_entry(user=user, content="z" * 3)),
        (EntryTooLarge, lambda: services.insert_journal_entry(user=user, content="z" * 11)),
        (
            EntryNotFound,
            lambda: services.update_journal_entry(user=user, entry_id=theirs.pk, content="z"),
        ),
        (EntryNotFound, lambda: services.delete_journal_entry(user=user, entry_id=theirs.pk)),
        (EntryNotFound, lambda: services.delete_journal_entry(user=user, entry_id=uuid.uuid4())),
    ]:
        with pytest.raises(refused):
            write()

    assert usage_of(user) == entries_of(user) == (10, 1)
    assert usage_of(other_user) == (4, 1)
    assert JournalEntry.objects.get(pk=entry.pk).size_bytes == 10


def test_a_write_costs_the_same_whatever_the_journal_holds(user):
    """The quota check reads the usage row: no write sums or counts the user's entries."""
    entry = services.insert_journal_entry(user=user, content="first")
    JournalEntry.objects.bulk_create(
        JournalEntry(user=user, content="x", size_bytes=1) for _ in range(200)
    )
    services.recount_journal_usage(user=user)

    with CaptureQueriesContext(connection) as writes:
        services.insert_journal_entry(user=user, content="another")
        services.update_journal_entry(user=user, entry_id=entry.pk, content="first, longer")
        services.delete_journal_entry(user=user, entry_id=entry.pk)

    scans = [q["sql"] for q in writes if re.search(r"\b(SUM|COUNT)\(", q["sql"], re.I)]
    assert scans == []
    assert usage_of(user) == entries_of(user) == (207, 201)


def test_recount_sets_the_usage_from_entries_written_in_bulk(user, other_user):
    services.insert_journal_entry(user=user, content="counted")
    JournalEntry.objects.bulk_create(
        JournalEntry(user=user, content="\u00e9", size_bytes=2) for _ in range(30)
    )
    assert usage_of(user) == (7, 1)

    services.recount_journal_usage(user=user)
    services.recount_journal_usage(user=other_user)

    assert usage_of(user) == entries_of(user) == (67, 31)
    assert usage_of(other_user) == (0, 0)


def test_deleting_entries_of_several_users_gives_each_their_bytes_back(user, other_user):
    mine = [services.insert_journal_entry(user=user, content="m" * n) for n in (3, 5, 7)]
    theirs = services.insert_journal_entry(user=other_user, content="t" * 11)

    deleted = services.delete_journal_entries(entry_ids=[mine[0].pk, mine[2].pk, theirs.pk])

    assert deleted == 3
    assert usage_of(user) == entries_of(user) == (5, 1)
    assert usage_of(other_user) == entries_of(other_user) == (0, 0)
    assert services.delete_journal_entries(entry_ids=[theirs.pk]) == 0
