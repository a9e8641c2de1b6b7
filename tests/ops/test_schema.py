import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_OPERATIONS = {"login", "refresh", "subscription_webhook"}


def api_paths(resolver=None, prefix=""):
    """Every path of the URLconf under /api/v1/, as the schema spells it."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from api_paths(pattern, route)
        elif (
            isinstance(pattern, URLPattern)
            and route.startswith("api/v1/")
            and pattern.name != "api-not-found"  # the JSON 404 of any other path
        ):
            yield "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


@pytest.fixture(scope="module")
def schema():
    from rest_framework.test import APIClient

    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_schema_validates_with_no_warnings():
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    assert result.stdout.startswith("openapi: 3.")


def test_schema_documents_every_api_endpoint(schema):
    assert schema["openapi"].startswith("3.")
    assert set(api_paths()) == set(schema["paths"])


def test_every_operation_documents_success_and_errors_as_json(schema):
    for path, method, operation in operations(schema):
        codes = set(operation["responses"])
        assert any(code.startswith("2") for code in codes), (path, method)
        errors = {code for code in codes if code[0] in "45"}
        assert errors, (path, method)
        for code in errors:
            content = operation["responses"][code]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (path, code)


def test_every_operation_with_a_body_documents_it_and_the_size_limit(schema):
    for path, method, operation in operations(schema):
        if method in ("post", "patch") and operation["operationId"] != "logout_all":
            assert "application/json" in operation["requestBody"]["content"], path
            assert "413" in operation["responses"], path


def test_authenticated_operations_need_the_bearer_token_and_document_401(schema):
    scheme = schema["components"]["securitySchemes"]["accessToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, method, operation in operations(schema):
        if operation["operationId"] in PUBLIC_OPERATIONS:
            assert operation["security"] == [{}], path
        else:
            assert {"accessToken": []} in operation["security"], (path, method)
            assert "401" in operation["responses"], (path, method)


def test_throttled_operations_document_429_with_retry_after(schema):
    throttled = [op for _, _, op in operations(schema) if op["operationId"] in PUBLIC_OPERATIONS]

    assert len(throttled) == 3
    for operation in throttled:
        assert "Retry-After" in operation["responses"]["429"]["headers"]


def test_unsafe_operations_document_maintenance_mode(schema):
    for path, method, operation in operations(schema):
        if method in ("post", "patch", "delete"):
            assert "maintenance" in operation["responses"]["503"]["description"], path


def test_every_operation_documents_a_request_held_too_long_by_a_move(schema):
    for path, _, operation in operations(schema):
        assert "CUTOVER_HOLD_SECONDS" in operation["responses"]["503"]["description"], path
        assert "Retry-After" in operation["responses"]["503"]["headers"], path


def test_swagger_ui_is_served_from_local_static_files(api):
    response = api.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset
    assert "cdn" not in html.lower()
    assert "/api/schema/" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("component", "field", "path", "body"),
    [
        ("RefreshRequest", "refresh", "/api/v1/auth/refresh", {"refresh": "\f \n"}),
        ("LoginRequest", "id_token", "/api/v1/auth/login", {"provider": "x", "id_token": " \t"}),
    ],
)
def test_a_trimmed_field_of_only_whitespace_is_refused_as_the_schema_says(
    schema, api, component, field, path, body
):
    declared = schema["components"]["schemas"][component]["properties"][field]

    response = api.post(path, body, format="json")

    assert declared["pattern"] == r"\S"  # a value must hold a character that is not whitespace
    assert response.status_code == 400
    assert response.json()[field] == ["This field may not be blank."]
