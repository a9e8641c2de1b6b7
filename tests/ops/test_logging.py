import io
import json
import logging

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from ops.logs import JsonFormatter, RequestIdFilter, redact

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """Every log line written during the test, through the formatter and filter the app's
    logging configuration uses, at DEBUG level."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


def test_a_request_gets_a_new_request_id_in_the_response(api):
    first = api.get("/healthz")["X-Request-ID"]
    second = api.get("/healthz")["X-Request-ID"]

    assert len(first) == 32 and int(first, 16) >= 0
    assert first != second


@pytest.mark.parametrize("incoming", ["abc-123", "0f8fad5b-d9cb-469f-a165-70867728950e", "a.b:c_d"])
def test_a_sane_incoming_request_id_is_kept(api, incoming):
    response = api.get("/healthz", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming", ["", "x" * 129, "has space", "line\nbreak", "-leading-dash", "<script>", "é"]
)
def test_an_insane_incoming_request_id_is_refused_under_a_new_one(api, incoming):
    response = api.get("/api/v1/journal/entries", HTTP_X_REQUEST_ID=incoming)

    assert response.status_code == 400
    assert response.json() == {
        "detail": "X-Request-ID must be 1 to 128 letters, digits and ._:- starting with a "
        "letter or digit.",
        "code": "invalid_request_id",
    }
    assert response["X-Request-ID"] != incoming
    assert len(response["X-Request-ID"]) == 32


def test_a_request_id_of_128_characters_is_kept(api):
    response = api.get("/healthz", HTTP_X_REQUEST_ID="a" * 128)

    assert response.status_code == 200
    assert response["X-Request-ID"] == "a" * 128


def test_error_responses_carry_the_request_id_too(api):
    response = api.get("/api/v1/me", HTTP_X_REQUEST_ID="req-401")

    assert response.status_code == 401
    assert response["X-Request-ID"] == "req-401"


def test_every_log_line_of_a_request_names_it(auth_api, log_lines, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the usage query broke")

    monkeypatch.setattr("journal.selectors.journal_usage", broken)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {auth_api.pair.access}")

    response = client.get("/api/v1/journal/usage", HTTP_X_REQUEST_ID="req-500")

    assert response.status_code == 500
    assert response.json() == {"detail": "Server error.", "code": "server_error"}
    errors = [line for line in log_lines() if line["level"] == "ERROR"]
    assert errors
    assert {line["request_id"] for line in errors} == {"req-500"}
    assert "the usage query broke" in errors[0]["exception"]


def test_warnings_logged_after_the_response_still_name_the_request(api, log_lines):
    api.get("/api/v1/me", HTTP_X_REQUEST_ID="req-denied")

    lines = [line for line in log_lines() if line["logger"] == "django.request"]
    assert lines
    assert lines[0]["request_id"] == "req-denied"
    assert lines[0]["status_code"] == 401


def test_log_lines_outside_a_request_have_no_request_id(log_lines):
    logging.getLogger("journal.test").info("no request here")

    assert log_lines()[0]["request_id"] is None
    assert log_lines()[0]["message"] == "no request here"


def test_tokens_never_reach_the_logs(api, idp, log_lines, monkeypatch):
    id_token = idp.id_token(sub="alice-sub", email="alice@example.com")
    login = api.post(
        "/api/v1/auth/login", {"provider": "google", "id_token": id_token}, format="json"
    )
    pair = login.json()
    refreshed = api.post("/api/v1/auth/refresh", {"refresh": pair["refresh"]}, format="json").json()
    secrets = [id_token, pair["access"], pair["refresh"], refreshed["access"], refreshed["refresh"]]
    # A token in a query string, a revoked token, a spent refresh token, a server error.
    bearer = APIClient(raise_request_exception=False)
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed['access']}")
    bearer.get(f"/api/v1/nowhere?access_token={refreshed['access']}&refresh={pair['refresh']}")
    api.post("/api/v1/auth/refresh", {"refresh": pair["refresh"]}, format="json")
    monkeypatch.setattr("journal.selectors.journal_usage", lambda **kw: 1 / 0)
    bearer.get(f"/api/v1/journal/usage?token={refreshed['access']}")
    bearer.post("/api/v1/auth/logout", {"refresh": refreshed["refresh"]}, format="json")
    bearer.get("/api/v1/me")
    logging.getLogger("journal.test").warning(
        "careless: %s %s", refreshed["access"], {"refresh": refreshed["refresh"]}
    )

    written = "\n".join(json.dumps(line) for line in log_lines())
    assert "careless" in written
    assert len(log_lines()) >= 5
    for secret in secrets:
        assert secret not in written


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /x?token=abc&page=2", "GET /x?token=[redacted]&page=2"),
        ("Authorization: Bearer abc.def", "Authorization: Bearer [redacted]"),
        ("{'refresh': 'r-123'}", "{'refresh': '[redacted]'}"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "[redacted]"),
        ("status code: 401, 12 entries", "status code: 401, 12 entries"),
    ],
)
def test_redaction_masks_credentials_and_nothing_else(text, expected):
    assert redact(text) == expected


def test_the_configured_logging_writes_json_with_the_request_id():
    console = settings.LOGGING["handlers"]["console"]

    assert settings.LOGGING["formatters"][console["formatter"]]["()"] == "ops.logs.JsonFormatter"
    assert settings.LOGGING["filters"][console["filters"][0]]["()"] == "ops.logs.RequestIdFilter"
