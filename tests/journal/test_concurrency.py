import pytest

from journal import services
from journal.exceptions import QuotaExceeded
from journal.models import JournalEntry
from journal.selectors import total_journal_bytes
from tests.tokens.test_concurrency import race

THREADS = 8


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
    assert total_journal_bytes(user=user) == 30


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
    assert total_journal_bytes(user=user) <= 40
