import time
import uuid

import jwt
import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tokens.access import CLOCK_SKEW_LEEWAY_SECONDS, encode_access_token, new_jti
from tokens.services import start_session

pytestmark = pytest.mark.django_db

KEY = "test-jwt-signing-key-0123456789abcdef0123456789"


def get_me(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client.get("/api/v1/me")


def sign(payload, key=KEY, algorithm="HS256"):
    return jwt.encode(payload, key, algorithm=algorithm)


def claims(user, **overrides):
    """Claims of an access token of a new live session of ``user``."""
    now = int(time.time())
    session = start_session(user=user).session
    return {
        "sub": str(user.pk),
        "sid": str(session.pk),
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 60,
        **overrides,
    }


def test_a_valid_access_token_authenticates(user):
    assert get_me(f"Bearer {sign(claims(user))}").status_code == 200


def test_an_expired_access_token_is_401(user):
    response = get_me(f"Bearer {sign(claims(user, exp=int(time.time()) - 1))}")

    assert response.status_code == 401
    assert response.json()["detail"] == "Access token has expired."


@pytest.mark.parametrize("claim", ["iat", "nbf"])
def test_a_token_issued_on_a_host_whose_clock_is_a_few_seconds_ahead_is_accepted(user, claim):
    ahead = int(time.time()) + CLOCK_SKEW_LEEWAY_SECONDS - 2

    assert get_me(f"Bearer {sign(claims(user, **{claim: ahead}))}").status_code == 200


@pytest.mark.parametrize("claim", ["iat", "nbf"])
def test_a_token_from_further_in_the_future_than_the_leeway_is_401(user, claim):
    ahead = int(time.time()) + CLOCK_SKEW_LEEWAY_SECONDS + 60

    assert get_me(f"Bearer {sign(claims(user, **{claim: ahead}))}").status_code == 401


def test_the_leeway_on_iat_does_not_extend_a_token_past_its_expiry(user):
    now = int(time.time())
    token = sign(claims(user, iat=now + 2, exp=now - 1))

    response = get_me(f"Bearer {token}")

    assert response.status_code == 401
    assert response.json()["detail"] == "Access token has expired."


def test_a_tampered_access_token_is_401(user, other_user):
    header, payload, signature = sign(claims(user)).split(".")
    forged_payload = sign(claims(other_user)).split(".")[1]

    assert get_me(f"Bearer {header}.{forged_payload}.{signature}").status_code == 401


def test_an_access_token_signed_with_another_key_is_401(user):
    assert get_me(f"Bearer {sign(claims(user), key='x' * 40)}").status_code == 401


def test_an_unsigned_access_token_is_401(user):
    token = jwt.encode(claims(user), None, algorithm="none")

    assert get_me(f"Bearer {token}").status_code == 401


@pytest.mark.parametrize("missing", ["sub", "sid", "jti", "exp", "iat"])
def test_an_access_token_without_a_required_claim_is_401(user, missing):
    payload = claims(user)
    del payload[missing]

    assert get_me(f"Bearer {sign(payload)}").status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer garbage", "Bearer \u00e9t\u00e9", "Bearer a.b.c"],
)
def test_malformed_authorization_headers_are_401_json(user, header):
    response = get_me(header)

    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)


def test_an_access_token_of_a_deleted_user_is_401(user):
    token = sign(claims(user))
    user.delete()

    assert get_me(f"Bearer {token}").status_code == 401


def test_an_access_token_with_a_non_uuid_subject_is_401(user):
    assert get_me(f"Bearer {sign(claims(user, sub='admin'))}").status_code == 401


def test_access_token_lifetime_follows_the_setting(user):
    with override_settings(ACCESS_TOKEN_TTL_SECONDS=5):
        token = encode_access_token(user_id=user.pk, session_id=uuid.uuid4(), jti=new_jti())
    payload = jwt.decode(token, KEY, algorithms=["HS256"])

    assert payload["exp"] - payload["iat"] == 5
