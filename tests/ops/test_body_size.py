import json

import pytest
from django.conf import settings

from journal.models import JournalEntry

pytestmark = pytest.mark.django_db

ENTRIES = "/api/v1/journal/entries"


def test_the_largest_legitimate_entry_fits_under_the_body_limit(auth_api):
    # Control characters are the worst case of JSON escaping: 1 byte each, 6 in the body.
    content = "\x01" * settings.JOURNAL_MAX_ENTRY_BYTES
    body = json.dumps({"content": content})
    assert len(body) > 6 * settings.JOURNAL_MAX_ENTRY_BYTES

    response = auth_api.post(ENTRIES, body, content_type="application/json")

    assert response.status_code == 201
    assert response.json()["size_bytes"] == settings.JOURNAL_MAX_ENTRY_BYTES


def test_a_body_over_the_limit_is_413_json_and_nothing_is_written(auth_api):
    body = json.dumps({"content": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})

    response = auth_api.post(ENTRIES, body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE) in response.json()["detail"]
    assert JournalEntry.objects.count() == 0


def test_an_entry_over_its_limit_but_under_the_body_limit_keeps_its_own_413(auth_api):
    content = "x" * (settings.JOURNAL_MAX_ENTRY_BYTES + 1)

    response = auth_api.post(ENTRIES, {"content": content}, format="json")

    assert response.status_code == 413
    assert response.json()["code"] == "entry_too_large"


@pytest.mark.parametrize(
    "path", ["/api/v1/subscriptions/webhook", "/api/v1/auth/login", "/api/v1/auth/refresh"]
)
def test_an_oversized_body_is_refused_before_anything_reads_it(api, path):
    body = b"{" + b" " * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b"}"

    response = api.post(path, body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_a_content_length_that_is_not_a_number_is_400_json(api):
    response = api.post(
        "/api/v1/auth/login", b"{}", content_type="application/json", CONTENT_LENGTH="lots"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "bad_content_length"
