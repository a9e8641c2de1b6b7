import logging
import uuid
from datetime import datetime

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.idp import GOOGLE_AUDIENCE, new_rsa_key
from tokens.models import Session
from tokens.services import start_session

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/me"


def post_login(client, id_token, provider="google", **extra):
    return client.post(LOGIN, {"provider": provider, "id_token": id_token, **extra}, format="json")


def bearer(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def assert_error(response, status):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body


# Login.


def test_login_answers_a_token_pair_and_the_user(api, idp):
    token = idp.id_token(sub="alice-sub", email="alice@example.com", name="Alice")

    response = post_login(api, token)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "token_type", "expires_in", "user"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert isinstance(body["access"], str) and body["access"]
    assert isinstance(body["refresh"], str) and body["refresh"]
    user = body["user"]
    assert set(user) == {"id", "provider", "email", "display_name", "created_at"}
    stored = User.objects.get(provider="google", provider_subject="alice-sub")
    assert user["id"] == str(stored.pk)
    assert user["provider"] == "google"
    assert user["email"] == "alice@example.com"
    assert user["display_name"] == "Alice"
    assert datetime.fromisoformat(user["created_at"]).utcoffset() is not None


def test_login_access_token_works_on_me(api, idp):
    body = post_login(api, idp.id_token(sub="alice-sub", email="alice@example.com")).json()

    response = bearer(body["access"]).get(ME)

    assert response.status_code == 200
    assert response.json() == body["user"]


def test_login_with_a_fingerprint_binds_the_session(api, idp):
    body = post_login(api, idp.id_token(sub="alice-sub"), fingerprint="device-1").json()

    session = Session.objects.get(user_id=body["user"]["id"])
    assert session.fingerprint == "device-1"


def test_second_login_with_the_same_identity_is_the_same_user(api, idp):
    first = post_login(api, idp.id_token(sub="alice-sub")).json()
    second = post_login(api, idp.id_token(sub="alice-sub", aud=GOOGLE_AUDIENCE[1])).json()

    assert first["user"]["id"] == second["user"]["id"]
    assert first["refresh"] != second["refresh"]


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "https://accounts.evil.example"},
        {"aud": "another-client.apps.example"},
        {"exp": 1_000_000_000, "iat": 999_999_000},
        {"sub": None},
    ],
    ids=["issuer", "audience", "expired", "no-subject"],
)
def test_login_with_an_invalid_id_token_is_401_with_detail(api, idp, claims):
    response = post_login(api, idp.id_token(**claims))

    assert_error(response, 401)
    assert not User.objects.exists()


def test_login_with_a_forged_id_token_is_401_with_detail(api, idp):
    response = post_login(api, idp.id_token(key=new_rsa_key()))

    assert_error(response, 401)


def test_login_with_a_garbage_id_token_is_401_with_detail(api, idp):
    response = post_login(api, "this-is-not-a-jwt")

    assert_error(response, 401)


def test_login_with_a_non_string_alg_in_the_header_is_401_with_detail(api, idp):
    # {"alg": ["RS256"], "kid": "key-1"} . {} . "sig"
    token = "eyJhbGciOiBbIlJTMjU2Il0sICJraWQiOiAia2V5LTEifQ.e30.c2ln"

    response = post_login(api, token)

    assert_error(response, 401)


def test_login_with_an_unknown_provider_is_400_with_detail(api, idp):
    response = post_login(api, idp.id_token(), provider="myspace")

    body = assert_error(response, 400)
    assert body["provider"] == ["Unknown provider 'myspace'."]


def schema_component(client, name):
    return client.get("/api/schema/?format=json").json()["components"]["schemas"][name]


def test_the_schema_lists_the_configured_providers_as_the_login_enum(api, settings):
    entry = {"issuer": "i", "audience": "a", "jwks_uri": "file:///-"}
    settings.AUTH_PROVIDERS = {"google": entry, "apple": entry}
    assert schema_component(api, "ProviderEnum")["enum"] == ["apple", "google"]

    settings.AUTH_PROVIDERS = {"github": entry}
    assert schema_component(api, "ProviderEnum")["enum"] == ["github"]


def test_with_no_provider_configured_the_schema_says_every_provider_is_refused(api, settings):
    settings.AUTH_PROVIDERS = {}

    provider = schema_component(api, "LoginRequest")["properties"]["provider"]

    assert provider["type"] == "string" and "enum" not in provider
    assert "every value is refused" in provider["description"]


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"provider": "google", "id_token": ', b"\xff\xfe", b""],
    ids=["broken", "truncated", "not-utf8", "empty"],
)
def test_login_with_a_malformed_json_body_is_400_with_detail(api, idp, raw):
    response = api.post(LOGIN, raw, content_type="application/json")

    assert_error(response, 400)


@pytest.mark.parametrize(
    "body",
    [{}, {"provider": "google"}, {"id_token": "x"}, {"provider": "", "id_token": ""}],
    ids=["empty", "no-id-token", "no-provider", "blank"],
)
def test_login_with_missing_fields_is_400_with_detail(api, idp, body):
    response = api.post(LOGIN, body, format="json")

    assert_error(response, 400)


@pytest.mark.parametrize(
    "body",
    [
        {"provider": "google", "id_token": ["a.b.c"]},
        {"provider": "google", "id_token": 12345},
        {"provider": "google", "id_token": {"token": "a.b.c"}},
        {"provider": "google", "id_token": None},
        {"provider": ["google"], "id_token": "a.b.c"},
        {"provider": 1, "id_token": "a.b.c"},
        {"provider": "google", "id_token": "a.b.c", "fingerprint": 7},
    ],
    ids=[
        "token-list",
        "token-number",
        "token-object",
        "token-null",
        "provider-list",
        "provider-number",
        "fingerprint-number",
    ],
)
def test_login_with_wrong_types_is_400_with_detail(api, idp, body):
    response = api.post(LOGIN, body, format="json")

    assert_error(response, 400)
    assert not User.objects.exists()


@pytest.mark.parametrize("raw", [b"[]", b'["google", "a.b.c"]', b'"a.b.c"', b"42", b"null"])
def test_login_with_a_json_body_that_is_not_an_object_is_400_with_detail(api, idp, raw):
    response = api.post(LOGIN, raw, content_type="application/json")

    assert_error(response, 400)


# Me.


def test_me_without_a_token_is_401_with_a_bearer_challenge(api, db):
    response = api.get(ME)

    assert_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-token", "Bearer ", "Bearer a b", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln"],
)
def test_me_with_a_bad_token_is_401_with_a_bearer_challenge(db, authorization):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization)

    response = client.get(ME)

    assert_error(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_me_answers_the_signed_in_user(auth_api, user):
    response = auth_api.get(ME)

    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)
    assert response.json()["email"] == "alice@example.com"


def test_me_of_a_user_without_email_answers_an_empty_string_the_schema_allows(api, db):
    user = User.objects.create(provider="apple", provider_subject="no-email-sub")
    client = bearer(start_session(user=user).access)

    assert client.get(ME).json()["email"] == ""
    email = schema_component(client, "User")["properties"]["email"]
    assert email["type"] == "string" and "format" not in email


def test_delete_me_answers_204_and_removes_the_user(auth_api, user):
    response = auth_api.delete(ME)

    assert response.status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()
    assert not Session.objects.filter(user_id=user.pk).exists()


def test_after_delete_me_the_access_token_no_longer_works(auth_api, user):
    auth_api.delete(ME)

    response = auth_api.get(ME)

    assert_error(response, 401)


def test_after_delete_me_the_refresh_token_no_longer_works(auth_api, api, user):
    auth_api.delete(ME)

    response = api.post(REFRESH, {"refresh": auth_api.pair.refresh}, format="json")

    assert_error(response, 401)


def test_delete_me_leaves_other_users_alone(auth_api, user, other_user, login):
    pair = login(other_user)

    auth_api.delete(ME)

    assert bearer(pair.access).get(ME).status_code == 200


def test_login_after_delete_me_creates_a_fresh_user(api, idp):
    first = post_login(api, idp.id_token(sub="alice-sub")).json()
    assert bearer(first["access"]).delete(ME).status_code == 204

    second = post_login(api, idp.id_token(sub="alice-sub"))

    assert second.status_code == 200
    new_id = second.json()["user"]["id"]
    assert new_id != first["user"]["id"]
    assert User.objects.get(provider="google", provider_subject="alice-sub").pk == uuid.UUID(new_id)


# Logs.


def test_no_raw_token_reaches_the_logs(api, idp, caplog):
    caplog.set_level(logging.DEBUG)
    id_token = idp.id_token(sub="alice-sub", email="alice@example.com")
    bad_id_token = idp.id_token(sub="mallory-sub", key=new_rsa_key())

    login = post_login(api, id_token)
    refreshed = api.post(REFRESH, {"refresh": login.json()["refresh"]}, format="json")
    refused = post_login(api, bad_id_token)

    assert (login.status_code, refreshed.status_code, refused.status_code) == (200, 200, 401)
    secrets = {
        id_token,
        bad_id_token,
        login.json()["access"],
        login.json()["refresh"],
        refreshed.json()["access"],
        refreshed.json()["refresh"],
    }
    # A JWT's signature part alone is as telling as the token.
    secrets |= {s.rsplit(".", 1)[1] for s in list(secrets) if s.count(".") == 2}
    logged = caplog.text + "".join(
        f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )
    assert caplog.records  # the refused login at least is logged
    for secret in secrets:
        assert secret not in logged
