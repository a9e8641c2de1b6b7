import pytest

from journal import selectors, services
from journal.models import JournalEntry, JournalUsage

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


def test_staff_deleting_an_entry_gives_its_owner_the_bytes_back(admin_client, user, settings):
    settings.JOURNAL_QUOTA_FREE_BYTES = 10
    entry = services.insert_journal_entry(user=user, content="x" * 10)

    response = admin_client.post(entry_page(entry, "delete"), {"post": "yes"})

    assert response.status_code == 302
    assert not JournalEntry.objects.filter(pk=entry.pk).exists()
    assert selectors.journal_usage(user=user).bytes_used == 0
    services.insert_journal_entry(user=user, content="y" * 10)  # the quota is free again


def test_staff_deleting_entries_in_bulk_gives_each_owner_the_bytes_back(
    admin_client, user, other_user
):
    mine = [services.insert_journal_entry(user=user, content="m" * n) for n in (2, 3)]
    theirs = services.insert_journal_entry(user=other_user, content="t" * 4)
    kept = services.insert_journal_entry(user=other_user, content="k" * 5)

    response = admin_client.post(
        ENTRIES,
        {
            "action": "delete_selected",
            "_selected_action": [str(e.pk) for e in (*mine, theirs)],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert list(JournalEntry.objects.values_list("pk", flat=True)) == [kept.pk]
    assert selectors.journal_usage(user=user) == selectors.Usage(
        bytes_used=0, quota_bytes=selectors.quota_bytes_for_user(user=user), entries=0
    )
    assert selectors.journal_usage(user=other_user).bytes_used == 5
    assert selectors.journal_usage(user=other_user).entries == 1


def test_account_deletion_removes_the_usage_with_the_journal(auth_api, user, other_user):
    services.insert_journal_entry(user=user, content="mine")
    services.insert_journal_entry(user=other_user, content="theirs")

    assert auth_api.delete("/api/v1/me").status_code == 204

    assert list(JournalUsage.objects.values_list("pk", flat=True)) == [other_user.pk]
    assert selectors.journal_usage(user=other_user).bytes_used == 6
