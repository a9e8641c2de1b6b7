"""CONTRACT.md, "Idempotent requests", through the API on the configured database."""

import pytest
from django.db import OperationalError
from django.utils import timezone
from rest_framework.test import APIClient

from idempotency.models import IdempotencyKey
from journal import services as journal_services
from journal.models import JournalEntry
from subscriptions.models import Subscription
from tokens.models import Session

ENTRIES = "/api/v1/journal/entries"
USAGE = "/api/v1/journal/usage"


def test_the_same_key_and_request_get_the_first_answer_without_running_again(keyed, user):
    first = keyed("POST", ENTRIES, "k-1", {"content": "once"})
    again = keyed("POST", ENTRIES, "k-1", {"content": "once"})

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert JournalEntry.objects.filter(user=user).count() == 1


def test_a_replay_spends_no_quota(keyed, auth_api, settings):
    settings.JOURNAL_QUOTA_FREE_BYTES = 5
    first = keyed("POST", ENTRIES, "fill", {"content": "12345"})
    again = keyed("POST", ENTRIES, "fill", {"content": "12345"})

    assert (first.status_code, again.status_code) == (201, 201)
    assert auth_api.get(USAGE).json()["bytes_used"] == 5


def test_a_replay_spends_no_write_rate(keyed, auth_api, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "write": "2/min"}
    assert keyed("POST", ENTRIES, "k", {"content": "a"}).status_code == 201
    replays = [keyed("POST", ENTRIES, "k", {"content": "a"}).status_code for _ in range(3)]

    assert replays == [201, 201, 201]
    assert auth_api.post(ENTRIES, {"content": "b"}, format="json").status_code == 201
    assert auth_api.post(ENTRIES, {"content": "c"}, format="json").status_code == 429


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", ENTRIES, {"content": "another body"}),
        ("PATCH", "{entry}", {"content": "first"}),
        ("DELETE", "{entry}", None),
    ],
)
def test_the_same_key_with_another_request_is_refused_422(keyed, user, method, path, body):
    entry = keyed("POST", ENTRIES, "k", {"content": "first"}).json()
    path = path.format(entry=f"{ENTRIES}/{entry['id']}")

    response = keyed(method, path, "k", body)

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert [e.content for e in JournalEntry.objects.filter(user=user)] == ["first"]


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\tkey", "nul\x01"])
def test_a_malformed_key_is_refused_400(keyed, user, key):
    response = keyed("POST", ENTRIES, key, {"content": "hello"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not JournalEntry.objects.filter(user=user).exists()


def test_keys_of_255_printable_characters_are_accepted(keyed):
    key = "".join(chr(c) for c in range(0x20, 0x7F)) * 3  # 285 characters
    assert keyed("POST", ENTRIES, key[:255], {"content": "hello"}).status_code == 201


def test_keys_belong_to_their_user(keyed, other_user, login):
    keyed("POST", ENTRIES, "shared", {"content": "alice's"})
    bob = APIClient()
    bob.credentials(HTTP_AUTHORIZATION=f"Bearer {login(other_user).access}")

    response = bob.post(ENTRIES, {"content": "bob's"}, format="json", HTTP_IDEMPOTENCY_KEY="shared")

    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert response.json()["content"] == "bob's"


def test_an_answer_below_500_is_kept(keyed, settings, user):
    settings.JOURNAL_MAX_ENTRY_BYTES = 4
    refused = keyed("POST", ENTRIES, "big", {"content": "too big"})
    settings.JOURNAL_MAX_ENTRY_BYTES = 100
    again = keyed("POST", ENTRIES, "big", {"content": "too big"})

    assert refused.status_code == again.status_code == 413
    assert again.json()["code"] == "entry_too_large" and again["Idempotent-Replayed"] == "true"
    assert not JournalEntry.objects.filter(user=user).exists()


def test_a_create_refused_for_the_quota_is_kept_and_replayed(keyed, auth_api, settings, user):
    settings.JOURNAL_QUOTA_FREE_BYTES = 5
    keyed("POST", ENTRIES, "fill", {"content": "12345"})
    refused = keyed("POST", ENTRIES, "over", {"content": "x"})
    settings.JOURNAL_QUOTA_FREE_BYTES = 100
    again = keyed("POST", ENTRIES, "over", {"content": "x"})

    assert refused.status_code == again.status_code == 403
    assert again.json()["code"] == "quota_exceeded" and again["Idempotent-Replayed"] == "true"
    usage = auth_api.get(USAGE).json()
    assert (usage["bytes_used"], usage["entries"]) == (5, 1)


def test_a_subscriber_creates_past_the_free_quota_with_a_key(keyed, auth_api, settings, user):
    settings.JOURNAL_QUOTA_FREE_BYTES = 5
    settings.JOURNAL_QUOTA_PREMIUM_BYTES = 50
    Subscription.objects.create(
        user=user,
        provider="stripe",
        provider_subscription_id="sub_1",
        plan="premium_monthly",
        status="active",
        last_event_at=timezone.now(),
    )
    created = keyed("POST", ENTRIES, "k", {"content": "x" * 20})
    again = keyed("POST", ENTRIES, "k", {"content": "x" * 20})

    assert created.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert auth_api.get(USAGE).json()["bytes_used"] == 20


def test_an_answer_of_500_or_more_keeps_nothing_and_its_retry_runs(keyed, monkeypatch, user):
    insert = journal_services.insert_journal_entry

    def insert_then_lose_the_connection(**kwargs):
        insert(**kwargs)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(journal_services, "insert_journal_entry", insert_then_lose_the_connection)
    failed = keyed("POST", ENTRIES, "k", {"content": "hello"})
    monkeypatch.setattr(journal_services, "insert_journal_entry", insert)
    retried = keyed("POST", ENTRIES, "k", {"content": "hello"})

    assert failed.status_code == 503 and failed.json()["code"] == "database_unavailable"
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert JournalEntry.objects.filter(user=user).count() == 1


def test_maintenance_answers_keep_nothing(keyed, settings, tmp_path):
    settings.MAINTENANCE_FLAG_PATH = tmp_path / "maintenance.flag"
    settings.MAINTENANCE_FLAG_PATH.write_text("on\n")
    refused = keyed("POST", ENTRIES, "k", {"content": "hello"})
    settings.MAINTENANCE_FLAG_PATH.unlink()
    retried = keyed("POST", ENTRIES, "k", {"content": "hello"})

    assert refused.status_code == 503 and refused.json()["code"] == "maintenance"
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried


def test_without_the_header_nothing_is_kept(auth_api, user):
    auth_api.post(ENTRIES, {"content": "a"}, format="json")
    auth_api.post(ENTRIES, {"content": "a"}, format="json")

    assert JournalEntry.objects.filter(user=user).count() == 2
    assert not IdempotencyKey.objects.exists()


def test_reads_ignore_the_header(auth_api):
    response = auth_api.get(ENTRIES, HTTP_IDEMPOTENCY_KEY="caf\u00e9")

    assert response.status_code == 200
    assert not IdempotencyKey.objects.exists()


def test_an_edit_is_replayed(keyed, user):
    entry = keyed("POST", ENTRIES, "create", {"content": "draft"}).json()
    path = f"{ENTRIES}/{entry['id']}"
    first = keyed("PATCH", path, "edit", {"content": "final"})
    JournalEntry.objects.filter(pk=entry["id"]).update(content="changed meanwhile")
    again = keyed("PATCH", path, "edit", {"content": "final"})

    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert JournalEntry.objects.get(pk=entry["id"]).content == "changed meanwhile"


def test_a_deletion_is_replayed_instead_of_404(keyed):
    entry = keyed("POST", ENTRIES, "create", {"content": "gone soon"}).json()
    path = f"{ENTRIES}/{entry['id']}"

    first = keyed("DELETE", path, "delete")
    again = keyed("DELETE", path, "delete")

    assert first.status_code == again.status_code == 204
    assert again["Idempotent-Replayed"] == "true" and again.content == b""


def test_revoking_another_session_is_replayed(keyed, user, login):
    other = login(user, fingerprint="tablet")
    path = f"/api/v1/sessions/{other.session.pk}"

    first = keyed("DELETE", path, "revoke")
    again = keyed("DELETE", path, "revoke")

    assert first.status_code == again.status_code == 204
    assert again["Idempotent-Replayed"] == "true"
    assert Session.objects.get(pk=other.session.pk).revoked_at is not None


@pytest.mark.parametrize("path", ["/api/v1/auth/logout", "/api/v1/auth/logout-all"])
def test_a_sign_out_runs_once_and_its_retry_finds_the_token_dead(keyed, path, user):
    first = keyed("POST", path, "bye", {})
    again = keyed("POST", path, "bye", {})

    assert first.status_code == 204
    assert again.status_code == 401
    assert IdempotencyKey.objects.filter(user=user, key="bye", status=204).exists()


def test_deleting_the_account_deletes_its_keys(keyed, user):
    keyed("POST", ENTRIES, "k", {"content": "hello"})

    response = keyed("DELETE", "/api/v1/me", "goodbye")

    assert response.status_code == 204
    assert not IdempotencyKey.objects.exists()


def test_a_method_the_endpoint_does_not_answer_is_405_whatever_key_it_carries(keyed):
    keyed("POST", ENTRIES, "k", {"content": "hello"})

    response = keyed("PUT", ENTRIES, "k", {"content": "hello"})

    assert response.status_code == 405
    assert IdempotencyKey.objects.count() == 1
