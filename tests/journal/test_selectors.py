import uuid

import pytest

from journal import selectors, services
from journal.exceptions import EntryNotFound

pytestmark = pytest.mark.django_db


def make_entries(user, count):
    return [services.insert_journal_entry(user=user, content=f"entry {i}") for i in range(count)]


def test_list_is_newest_first_with_the_total_count(user, other_user):
    entries = make_entries(user, 5)
    make_entries(other_user, 2)

    count, page = selectors.list_journal_entries(user=user, limit=2, offset=1)

    assert count == 5
    assert [e.content for e in page] == ["entry 3", "entry 2"]
    assert {e.pk for e in page} < {e.pk for e in entries}


def test_list_past_the_end_is_empty(user):
    make_entries(user, 3)

    count, page = selectors.list_journal_entries(user=user, limit=10, offset=3)

    assert (count, page) == (3, [])


@pytest.mark.parametrize(
    ("entries", "limit", "offset", "expected"),
    [
        (0, 5, 0, (0, [])),
        (3, 5, 0, (3, ["entry 2", "entry 1", "entry 0"])),
        (5, 5, 0, (5, ["entry 4", "entry 3", "entry 2", "entry 1", "entry 0"])),
        (6, 5, 0, (6, ["entry 5", "entry 4", "entry 3", "entry 2", "entry 1"])),
        (6, 5, 5, (6, ["entry 0"])),
        (6, 2, 4, (6, ["entry 1", "entry 0"])),
        (6, 2, 3, (6, ["entry 2", "entry 1"])),
        (6, 2, 6, (6, [])),
        (6, 2, 60, (6, [])),
    ],
)
def test_the_count_is_the_total_whatever_page_is_read(user, entries, limit, offset, expected):
    make_entries(user, entries)

    count, page = selectors.list_journal_entries(user=user, limit=limit, offset=offset)

    assert (count, [e.content for e in page]) == expected


def test_get_journal_entry_hides_other_users_entries(user, other_user):
    theirs = make_entries(other_user, 1)[0]

    with pytest.raises(EntryNotFound):
        selectors.get_journal_entry(user=user, entry_id=theirs.pk)
    with pytest.raises(EntryNotFound):
        selectors.get_journal_entry(user=user, entry_id=uuid.uuid4())
    assert selectors.get_journal_entry(user=other_user, entry_id=theirs.pk) == theirs


def test_usage_counts_only_the_users_entries(user, other_user):
    services.insert_journal_entry(user=user, content="\u00e9\u00e9")
    services.insert_journal_entry(user=user, content="abc")
    services.insert_journal_entry(user=other_user, content="zzzzzz")

    assert selectors.journal_usage(user=user).bytes_used == 7


def test_usage_of_an_empty_journal_is_zero(user):
    assert selectors.journal_usage(user=user).bytes_used == 0


def test_usage_reports_bytes_quota_and_count(user, settings, premium):
    settings.JOURNAL_QUOTA_FREE_BYTES = 1000
    settings.JOURNAL_QUOTA_PREMIUM_BYTES = 5000
    make_entries(user, 3)

    assert selectors.journal_usage(user=user) == selectors.Usage(
        bytes_used=21, quota_bytes=1000, entries=3
    )
    premium(user)
    assert selectors.journal_usage(user=user).quota_bytes == 5000


def test_iter_journal_entries_yields_every_entry_oldest_first(user, other_user):
    entries = make_entries(user, 120)  # more than one fetch chunk
    make_entries(other_user, 3)

    assert [e.pk for e in selectors.iter_journal_entries(user=user)] == [e.pk for e in entries]
