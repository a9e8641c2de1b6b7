"""A body field that the endpoint does not define is a 400 naming the field, on every
operation of the clients' API, before anything happens; the schema says
`additionalProperties: false` for those bodies. The webhook ignores unknown fields, and its
schema says so."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from journal.models import JournalEntry
from journal.services import insert_journal_entry
from tokens.models import Session

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

# A body each operation accepts, but for the field it does not define.
VALID_BODIES = {
    "login": {"provider": "google", "id_token": "x.y.z", "fingerprint": "device"},
    "refresh": {"refresh": "a-refresh-token", "fingerprint": "device"},
    "logout": {"refresh": ""},
    "create_entry": {"content": "hello"},
    "update_entry": {"content": "changed"},
}


@pytest.fixture
def schema():
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def request_schema(schema, operation):
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]]


def operations_with_a_body(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if "requestBody" in operation:
                yield path, method, operation


def test_every_request_body_of_the_clients_api_refuses_fields_it_does_not_define(schema):
    strict = {}
    for _, _, operation in operations_with_a_body(schema):
        body = request_schema(schema, operation)
        strict[operation["operationId"]] = body["additionalProperties"]

    assert strict == {
        **dict.fromkeys(VALID_BODIES, False),
        "subscription_webhook": True,
    }
    webhook = schema["components"]["schemas"]["WebhookEventRequest"]
    assert schema["components"]["schemas"]["SubscriptionStateRequest"]["additionalProperties"]
    assert "ignored" in webhook["description"]


@pytest.mark.parametrize("extra", [{"colour": "blue"}, {"Content": 1, "nested": {"a": None}}])
def test_every_operation_refuses_a_field_it_does_not_define_and_does_nothing(
    schema, auth_api, user, settings, extra
):
    settings.AUTH_PROVIDERS = {
        "google": {"issuer": "https://g.example", "audience": "a", "jwks_uri": "file:///-"}
    }
    entry = insert_journal_entry(user=user, content="kept")
    sessions = Session.objects.filter(revoked_at__isnull=True).count()
    tried = set()
    for path, method, operation in operations_with_a_body(schema):
        operation_id = operation["operationId"]
        if operation_id == "subscription_webhook":
            continue
        url = path.replace("{entry_id}", str(entry.pk))
        body = {**VALID_BODIES[operation_id], **extra}

        response = getattr(auth_api, method)(url, body, format="json")

        assert response.status_code == 400, (operation_id, response.content)
        answer = response.json()
        assert answer["code"] == "invalid"
        for field in extra:
            assert answer[field] == ["This endpoint does not define this field."], operation_id
        assert next(iter(extra)) in answer["detail"], operation_id
        tried.add(operation_id)

    assert tried == set(VALID_BODIES)
    assert list(JournalEntry.objects.values_list("content", flat=True)) == ["kept"]
    assert Session.objects.filter(revoked_at__isnull=True).count() == sessions


@pytest.mark.parametrize("name", ["detail", "code"])
def test_an_undefined_field_named_like_the_error_shape_keeps_the_shape(auth_api, name):
    response = auth_api.post("/api/v1/journal/entries", {"content": "x", name: 1}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["detail"] == f"{name}: This endpoint does not define this field."


BODILESS = [
    ("post", "/api/v1/auth/logout-all"),
    ("delete", "/api/v1/me"),
    ("delete", "/api/v1/sessions/{session}"),
    ("delete", "/api/v1/journal/entries/{entry}"),
]


def test_the_schema_defines_no_body_for_these_operations(schema):
    for method, path in BODILESS:
        template = path.replace("{session}", "{session_id}").replace("{entry}", "{entry_id}")
        assert "requestBody" not in schema["paths"][template][method], path


@pytest.mark.parametrize(("method", "path"), BODILESS)
def test_an_operation_without_a_body_refuses_a_field_in_one_and_does_nothing(
    auth_api, user, login, method, path
):
    entry = insert_journal_entry(user=user, content="kept")
    other_session = login(user).session
    url = path.format(session=other_session.pk, entry=entry.pk)

    response = getattr(auth_api, method)(url, {"confirm": True}, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["detail"] == "confirm: This endpoint does not define this field."
    assert response.json()["confirm"] == ["This endpoint does not define this field."]
    assert list(JournalEntry.objects.values_list("content", flat=True)) == ["kept"]
    assert Session.objects.filter(user=user, revoked_at__isnull=True).count() == 2
    assert auth_api.get("/api/v1/me").status_code == 200


@pytest.mark.parametrize("body", [None, {}])
def test_an_operation_without_a_body_takes_none_or_an_empty_object(auth_api, body):
    response = auth_api.post("/api/v1/auth/logout-all", body, format="json")

    assert response.status_code == 204


def test_an_unreadable_body_on_an_operation_without_one_is_400(auth_api):
    response = auth_api.generic(
        "DELETE", "/api/v1/me", '{"a": "\\u0000"}', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert auth_api.get("/api/v1/me").status_code == 200


FIRST_ASKED_BY_THREADS = """
import threading
import django
django.setup()
from ops.openapi import operations_without_a_body
answers = []
def ask():
    try:
        answers.append(operations_without_a_body())
    except Exception as exc:
        answers.append(repr(exc))
threads = [threading.Thread(target=ask) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
assert len(set(answers)) == 1, answers
assert ("/api/v1/me", "DELETE") in answers[0], answers[0]
"""


def test_threads_of_a_fresh_process_that_first_ask_which_operations_have_no_body_agree():
    # A fresh process: drf-spectacular loads its extensions on the first schema it builds.
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"})
    result = subprocess.run(
        [sys.executable, "-c", FIRST_ASKED_BY_THREADS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-3000:]
