import pytest

from journal import services
from journal.models import JournalEntry

pytestmark = pytest.mark.django_db


SECRET = "zebra-ledger-7731: my secret thoughts"
ENTRIES = "/admin/journal/journalentry/"


def entry_page(entry, page="change"):
    return f"{ENTRIES}{entry.pk}/{page}/"


def user_page(user, page="change"):
    return f"/admin/accounts/user/{user.pk}/{page}/"


def test_entry_list_and_page_show_size_and_dates_but_never_content(admin_client, user):
    entry = services.insert_journal_entry(user=user, content=SECRET)

    listing = admin_client.get(ENTRIES)
    detail = admin_client.get(entry_page(entry))
    history = admin_client.get(entry_page(entry, "history"))

    assert listing.status_code == detail.status_code == history.status_code == 200
    assert str(entry.pk) in listing.content.decode()
    assert f"{entry.size_bytes}" in detail.content.decode()
    assert "alice@example.com" in detail.content.decode()
    for page in (listing, detail, history):
        assert "zebra-ledger" not in page.content.decode()


def test_users_pages_never_show_their_entries_content(admin_client, user):
    services.insert_journal_entry(user=user, content=SECRET)

    change = admin_client.get(user_page(user))
    delete = admin_client.get(user_page(user, "delete"))

    assert change.status_code == delete.status_code == 200
    # The deletion summary lists the entries it would remove, by size only.
    assert "bytes)" in delete.content.decode()
    for page in (change, delete):
        assert "zebra-ledger" not in page.content.decode()


def test_a_superuser_cannot_change_an_entrys_content(admin_client, user):
    entry = services.insert_journal_entry(user=user, content=SECRET)

    response = admin_client.post(entry_page(entry), {"content": "rewritten by staff"})

    assert response.status_code == 403
    assert JournalEntry.objects.get(pk=entry.pk).content == SECRET


@pytest.mark.parametrize(
    ("listing", "lookup"),
    [
        (ENTRIES, "content__contains"),
        (ENTRIES, "content"),
        ("/admin/accounts/user/", "journal_entries__content__contains"),
    ],
)
def test_lists_refuse_a_filter_on_entry_content(admin_client, user, listing, lookup):
    services.insert_journal_entry(user=user, content=SECRET)

    response = admin_client.get(listing, {lookup: "zebra"})

    # Which rows such a filter kept would tell what the entries say.
    assert response.status_code == 400
    assert "alice@example.com" not in response.content.decode()


def test_entries_are_not_searchable_by_content(admin_client, user):
    entry = services.insert_journal_entry(user=user, content=SECRET)

    html = admin_client.get(ENTRIES, {"q": "zebra-ledger"}).content.decode()

    assert str(entry.pk) not in html


def test_entries_are_searchable_by_user_email(admin_client, user, other_user):
    mine = services.insert_journal_entry(user=user, content="a")
    theirs = services.insert_journal_entry(user=other_user, content="b")

    html = admin_client.get(ENTRIES, {"q": "bob@"}).content.decode()

    assert str(theirs.pk) in html
    assert str(mine.pk) not in html


def test_account_deletion_removes_the_journal(auth_api, user, other_user):
    services.insert_journal_entry(user=user, content="mine")
    theirs = services.insert_journal_entry(user=other_user, content="theirs")

    assert auth_api.delete("/api/v1/me").status_code == 204

    assert list(JournalEntry.objects.values_list("pk", flat=True)) == [theirs.pk]
