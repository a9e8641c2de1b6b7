import pytest

from journal import services
from journal.models import JournalEntry

pytestmark = pytest.mark.django_db


def test_entry_list_shows_size_and_dates_but_not_content(admin_client, user):
    entry = services.insert_journal_entry(user=user, content="my secret thoughts")

    listing = admin_client.get("/admin/journal/journalentry/").content.decode()
    detail = admin_client.get(f"/admin/journal/journalentry/{entry.pk}/change/").content.decode()

    assert str(entry.pk) in listing
    assert "my secret thoughts" not in listing
    assert "my secret thoughts" in detail


def test_entries_are_searchable_by_user_email(admin_client, user, other_user):
    mine = services.insert_journal_entry(user=user, content="a")
    theirs = services.insert_journal_entry(user=other_user, content="b")

    html = admin_client.get("/admin/journal/journalentry/", {"q": "bob@"}).content.decode()

    assert str(theirs.pk) in html
    assert str(mine.pk) not in html


def test_account_deletion_removes_the_journal(auth_api, user, other_user):
    services.insert_journal_entry(user=user, content="mine")
    theirs = services.insert_journal_entry(user=other_user, content="theirs")

    assert auth_api.delete("/api/v1/me").status_code == 204

    assert list(JournalEntry.objects.values_list("pk", flat=True)) == [theirs.pk]
