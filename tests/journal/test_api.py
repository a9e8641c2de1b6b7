import json
import uuid

import pytest

from journal import services
from journal.models import JournalEntry

pytestmark = pytest.mark.django_db

ENTRIES = "/api/v1/journal/entries"


def make_entries(user, count):
    return [services.insert_journal_entry(user=user, content=f"entry {i}") for i in range(count)]


def test_create_returns_the_entry(auth_api):
    response = auth_api.post(ENTRIES, {"content": "Dear diary \u2603"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "content", "size_bytes", "created_at", "updated_at"}
    assert body["content"] == "Dear diary \u2603"
    assert body["size_bytes"] == 14
    assert body["created_at"].endswith("Z")
    assert JournalEntry.objects.filter(pk=body["id"]).exists()


@pytest.mark.parametrize(
    "body", [b"{}", b'{"content": ""}', b'{"content": 5}', b'{"content": null}', b"[]", b"{x"]
)
def test_create_with_a_bad_body_is_400_with_detail(auth_api, body):
    response = auth_api.post(ENTRIES, body, content_type="application/json")

    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)
    assert not JournalEntry.objects.exists()


def test_entry_too_large_is_413_and_quota_exceeded_is_403(auth_api, settings):
    settings.JOURNAL_MAX_ENTRY_BYTES = 8
    settings.JOURNAL_QUOTA_FREE_BYTES = 12

    too_large = auth_api.post(ENTRIES, {"content": "\u00e9" * 5}, format="json")
    auth_api.post(ENTRIES, {"content": "x" * 8}, format="json")
    over_quota = auth_api.post(ENTRIES, {"content": "y" * 5}, format="json")

    assert too_large.status_code == 413
    assert too_large.json()["code"] == "entry_too_large"
    assert over_quota.status_code == 403
    assert over_quota.json()["code"] == "quota_exceeded"
    assert JournalEntry.objects.count() == 1


def test_list_is_paged_newest_first(auth_api, user):
    make_entries(user, 5)

    body = auth_api.get(ENTRIES, {"limit": 2, "offset": 2}).json()

    assert body["count"] == 5
    assert [e["content"] for e in body["results"]] == ["entry 2", "entry 1"]
    assert body["next"].endswith("/api/v1/journal/entries?limit=2&offset=4")
    assert body["previous"].endswith("/api/v1/journal/entries?limit=2")


def test_list_defaults_to_twenty(auth_api, user):
    make_entries(user, 25)

    body = auth_api.get(ENTRIES).json()

    assert len(body["results"]) == 20
    assert body["previous"] is None
    assert "offset=20" in body["next"]


def test_list_offset_past_the_end_is_empty(auth_api, user):
    make_entries(user, 3)

    body = auth_api.get(ENTRIES, {"offset": 10}).json()

    assert body["count"] == 3
    assert body["results"] == []
    assert body["next"] is None


def test_list_limit_over_a_hundred_is_capped(auth_api, user):
    JournalEntry.objects.bulk_create(
        JournalEntry(user=user, content="x", size_bytes=1) for _ in range(105)
    )
    services.recount_journal_usage(user=user)

    body = auth_api.get(ENTRIES, {"limit": 500}).json()

    assert len(body["results"]) == 100
    assert "limit=100" in body["next"]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 0},
        {"limit": -1},
        {"limit": "ten"},
        {"offset": -1},
        {"offset": "x"},
        {"limit": 1.5},
        {"offset": 2**63},
        {"offset": "9" * 40},
    ],
)
def test_list_with_bad_paging_is_400(auth_api, query):
    response = auth_api.get(ENTRIES, query)

    assert response.status_code == 400
    assert response.json()["detail"]


def test_list_takes_the_largest_offset_the_databases_take(auth_api, user):
    make_entries(user, 1)

    body = auth_api.get(ENTRIES, {"offset": 2**63 - 1, "limit": 100}).json()

    assert (body["count"], body["results"], body["next"]) == (1, [], None)


def test_list_shows_only_my_entries(auth_api, user, other_user):
    make_entries(other_user, 3)
    mine = make_entries(user, 1)

    body = auth_api.get(ENTRIES).json()

    assert [e["id"] for e in body["results"]] == [str(mine[0].pk)]


@pytest.mark.parametrize("page_size", [1, 10, 100])
@pytest.mark.parametrize(("more", "queries"), [(0, 2), (1, 3)])
def test_list_runs_a_fixed_number_of_queries(
    auth_api, user, page_size, more, queries, django_assert_num_queries
):
    JournalEntry.objects.bulk_create(
        JournalEntry(user=user, content="x", size_bytes=1) for _ in range(page_size + more)
    )
    services.recount_journal_usage(user=user)

    # The session with its user (and the revoked-JTI check), the page, and the count only
    # when entries are left after the page.
    with django_assert_num_queries(queries):
        body = auth_api.get(ENTRIES, {"limit": page_size}).json()

    assert len(body["results"]) == page_size
    assert body["count"] == page_size + more
    assert (body["next"] is None) == (more == 0)


def test_retrieve_patch_and_delete_my_entry(auth_api, user):
    entry = make_entries(user, 1)[0]
    url = f"{ENTRIES}/{entry.pk}"

    assert auth_api.get(url).json()["content"] == "entry 0"
    patched = auth_api.patch(url, {"content": "edited \u00e9"}, format="json")
    assert patched.status_code == 200
    assert patched.json()["size_bytes"] == 9
    assert auth_api.delete(url).status_code == 204
    assert auth_api.get(url).status_code == 404


def test_another_users_entry_is_404_on_get_patch_and_delete(auth_api, other_user):
    theirs = make_entries(other_user, 1)[0]
    url = f"{ENTRIES}/{theirs.pk}"

    for response in (
        auth_api.get(url),
        auth_api.patch(url, {"content": "mine now"}, format="json"),
        auth_api.delete(url),
    ):
        assert response.status_code == 404
        assert response.json()["detail"] == "No such journal entry."
    assert JournalEntry.objects.get(pk=theirs.pk).content == "entry 0"


def test_unknown_entry_ids_are_404_json(auth_api):
    assert auth_api.get(f"{ENTRIES}/{uuid.uuid4()}").status_code == 404
    response = auth_api.get(f"{ENTRIES}/not-a-uuid")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_patch_over_the_limits(auth_api, user, settings):
    settings.JOURNAL_QUOTA_FREE_BYTES = 10
    settings.JOURNAL_MAX_ENTRY_BYTES = 8
    entry = make_entries(user, 1)[0]  # 7 bytes
    url = f"{ENTRIES}/{entry.pk}"

    assert auth_api.patch(url, {"content": "x" * 9}, format="json").status_code == 413
    services.insert_journal_entry(user=user, content="abc")  # 10 of 10 bytes used
    response = auth_api.patch(url, {"content": "x" * 8}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "quota_exceeded"
    assert auth_api.patch(url, {}, format="json").status_code == 400


def test_usage(auth_api, user, settings, premium):
    settings.JOURNAL_QUOTA_PREMIUM_BYTES = 777
    make_entries(user, 2)
    premium(user)

    assert auth_api.get("/api/v1/journal/usage").json() == {
        "bytes_used": 14,
        "quota_bytes": 777,
        "entries": 2,
    }


def test_usage_follows_creates_edits_and_deletes(auth_api, settings):
    settings.JOURNAL_QUOTA_FREE_BYTES = 20
    usage = "/api/v1/journal/usage"
    created = auth_api.post(ENTRIES, {"content": "x" * 12}, format="json").json()
    url = f"{ENTRIES}/{created['id']}"
    assert auth_api.get(usage).json() == {"bytes_used": 12, "quota_bytes": 20, "entries": 1}

    assert auth_api.patch(url, {"content": "x" * 20}, format="json").status_code == 200
    assert auth_api.post(ENTRIES, {"content": "y"}, format="json").status_code == 403
    assert auth_api.get(usage).json()["bytes_used"] == 20
    assert auth_api.delete(url).status_code == 204

    assert auth_api.get(usage).json() == {"bytes_used": 0, "quota_bytes": 20, "entries": 0}
    assert auth_api.post(ENTRIES, {"content": "y" * 20}, format="json").status_code == 201


def test_export_streams_every_entry_as_a_json_array(auth_api, user, other_user, settings):
    make_entries(other_user, 1)
    JournalEntry.objects.bulk_create(
        JournalEntry(user=user, content=f"\u00e9 {i}", size_bytes=4) for i in range(130)
    )
    services.recount_journal_usage(user=user)
    settings.JOURNAL_QUOTA_FREE_BYTES = 0  # over quota: the export still works

    response = auth_api.get("/api/v1/journal/export")

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/json"
    entries = json.loads(b"".join(response.streaming_content))
    assert len(entries) == 130
    # Only this user's entries; the other user's "entry 0" is not among them.
    assert {e["content"] for e in entries} == {f"\u00e9 {i}" for i in range(130)}
    assert set(entries[0]) == {"id", "content", "size_bytes", "created_at", "updated_at"}


def test_export_of_an_empty_journal_is_an_empty_array(auth_api):
    response = auth_api.get("/api/v1/journal/export")

    assert json.loads(b"".join(response.streaming_content)) == []


def test_journal_needs_a_token(api, db):
    for response in (api.get(ENTRIES), api.get("/api/v1/journal/export")):
        assert response.status_code == 401
