import uuid

import pytest

from journal import services
from journal.exceptions import EntryNotFound, EntryTooLarge, QuotaExceeded
from journal.models import JournalEntry
from journal.selectors import total_journal_bytes

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

    assert total_journal_bytes(user=user) == 20


def test_quota_is_per_user(user, other_user, settings):
    settings.JOURNAL_QUOTA_FREE_BYTES = 5
    services.insert_journal_entry(user=user, content="12345")

    services.insert_journal_entry(user=other_user, content="12345")

    assert total_journal_bytes(user=other_user) == 5


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
    assert total_journal_bytes(user=user) == 10
    with pytest.raises(QuotaExceeded):
        services.update_journal_entry(user=user, entry_id=entry.pk, content="z" * 11)
    assert JournalEntry.objects.get(pk=entry.pk).content == "y" * 10


def test_shrinking_an_entry_is_allowed_even_over_quota(user, settings):
    entry = services.insert_journal_entry(user=user, content="x" * 8)
    settings.JOURNAL_QUOTA_FREE_BYTES = 4  # the quota dropped below what is stored

    services.update_journal_entry(user=user, entry_id=entry.pk, content="x" * 6)

    assert total_journal_bytes(user=user) == 6


def test_update_over_the_entry_limit_is_refused(user, settings):
    settings.JOURNAL_MAX_ENTRY_BYTES = 4
    entry = services.insert_journal_entry(user=user, content="abcd")

    with pytest.raises(EntryTooLarge):
        services.update_journal_entry(user=user, entry_id=entry.pk, content="abc\u00e9")


def test_delete_gives_the_bytes_back(user, settings):
    settings.JOURNAL_QUOTA_FREE_BYTES = 10
    entry = services.insert_journal_entry(user=user, content="x" * 10)

    services.delete_journal_entry(user=user, entry_id=entry.pk)

    assert total_journal_bytes(user=user) == 0
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
