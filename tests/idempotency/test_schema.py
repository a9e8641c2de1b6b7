"""The OpenAPI schema declares Idempotency-Key and its answers wherever the API honours it."""

import pytest
from rest_framework.test import APIClient

from tests.ops.test_schema import operations

HONOURED = {
    ("/api/v1/journal/entries", "post"),
    ("/api/v1/journal/entries/{entry_id}", "patch"),
    ("/api/v1/journal/entries/{entry_id}", "delete"),
    ("/api/v1/sessions/{session_id}", "delete"),
    ("/api/v1/me", "delete"),
    ("/api/v1/auth/logout", "post"),
    ("/api/v1/auth/logout-all", "post"),
}


@pytest.fixture(scope="module")
def schema():
    return APIClient().get("/api/schema/?format=json").json()


def declares_the_key(operation) -> bool:
    return any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", []))


def test_every_operation_that_honours_the_key_declares_it_and_its_answers(schema):
    honoured = {(path, method) for path, method, op in operations(schema) if declares_the_key(op)}

    assert honoured == HONOURED
    for path, method, operation in operations(schema):
        if (path, method) not in HONOURED:
            continue
        responses = operation["responses"]
        assert "idempotency_key_in_use" in responses["409"]["description"]
        assert "Retry-After" in responses["409"]["headers"]
        assert "idempotency_key_reused" in responses["422"]["description"]
        assert "invalid_idempotency_key" in responses["400"]["description"]
        success = next(s for s in responses if s.startswith("2"))
        assert "Idempotent-Replayed" in responses[success]["headers"]
