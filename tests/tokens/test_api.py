import uuid

import pytest
from rest_framework.test import APIClient

from tokens import services
from tokens.models import Session

pytestmark = pytest.mark.django_db

REFRESH = "/api/v1/auth/refresh"


def bearer(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_refresh_returns_a_new_pair(api, user, login):
    pair = login(user)

    response = api.post(REFRESH, {"refresh": pair.refresh}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["refresh"] != pair.refresh
    assert bearer(body["access"]).get("/api/v1/me").json()["id"] == str(user.pk)


def test_refresh_with_a_reused_token_is_401_and_kills_the_session(api, user, login):
    pair = login(user)
    rotated = api.post(REFRESH, {"refresh": pair.refresh}, format="json").json()

    reuse = api.post(REFRESH, {"refresh": pair.refresh}, format="json")
    after = api.post(REFRESH, {"refresh": rotated["refresh"]}, format="json")

    assert reuse.status_code == 401
    assert "reused; its session has been revoked" in reuse.json()["detail"]
    assert after.status_code == 401
    # The thief who rotated first holds an access token of that session: it dies too.
    assert bearer(rotated["access"]).get("/api/v1/me").status_code == 401


def test_refresh_with_the_wrong_fingerprint_is_401_and_ends_the_session(api, user, login):
    pair = login(user, fingerprint="device-1")

    wrong = api.post(REFRESH, {"refresh": pair.refresh, "fingerprint": "x"}, format="json")
    right = api.post(REFRESH, {"refresh": pair.refresh, "fingerprint": "device-1"}, format="json")

    assert wrong.status_code == 401
    assert right.status_code == 401
    assert bearer(pair.access).get("/api/v1/me").status_code == 401


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'{"refresh": 5}', b'{"refresh": ["a"]}', b"{}", b'"text"'],
)
def test_refresh_with_a_bad_body_is_400_with_detail(api, body):
    response = api.post(REFRESH, body, content_type="application/json")

    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)


def test_refresh_with_an_unknown_token_is_401(api, db):
    response = api.post(REFRESH, {"refresh": "nope"}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_refresh_token"


def test_logout_kills_the_access_token_at_once(auth_api):
    assert auth_api.get("/api/v1/me").status_code == 200

    assert auth_api.post("/api/v1/auth/logout", {}, format="json").status_code == 204

    response = auth_api.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["detail"] == "The session of this access token has ended."


def test_logout_ends_the_session_of_the_access_token(auth_api, api):
    auth_api.post("/api/v1/auth/logout", format="json")

    response = api.post(REFRESH, {"refresh": auth_api.pair.refresh}, format="json")
    assert response.status_code == 401


def test_logout_with_a_refresh_token_ends_that_session_too(auth_api, api, user, login):
    other = login(user)

    auth_api.post("/api/v1/auth/logout", {"refresh": other.refresh}, format="json")

    assert api.post(REFRESH, {"refresh": other.refresh}, format="json").status_code == 401


def test_logout_without_a_token_is_401(api, db):
    response = api.post("/api/v1/auth/logout", format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"


def test_logout_all_kills_every_session_and_this_access_token(auth_api, api, user, login):
    others = [login(user) for _ in range(2)]

    assert auth_api.post("/api/v1/auth/logout-all").status_code == 204

    assert auth_api.get("/api/v1/me").status_code == 401
    for pair in [auth_api.pair, *others]:
        assert api.post(REFRESH, {"refresh": pair.refresh}, format="json").status_code == 401


def test_sessions_lists_live_logins_and_marks_the_current_one(auth_api, user, other_user, login):
    phone = login(user, fingerprint="phone")
    login(other_user)
    services.revoke_session(user=user, session_id=login(user).session.pk)

    response = auth_api.get("/api/v1/sessions")

    assert response.status_code == 200
    sessions = {s["id"]: s for s in response.json()}
    assert set(sessions) == {str(auth_api.pair.session.pk), str(phone.session.pk)}
    assert sessions[str(auth_api.pair.session.pk)]["current"] is True
    assert sessions[str(phone.session.pk)]["current"] is False
    assert sessions[str(phone.session.pk)]["fingerprint"] == "phone"
    assert set(sessions[str(phone.session.pk)]) == {
        "id",
        "fingerprint",
        "created_at",
        "last_used_at",
        "expires_at",
        "current",
    }
    assert sessions[str(phone.session.pk)]["expires_at"].endswith("Z")


def test_deleting_a_session_kills_its_refresh_tokens(auth_api, api, user, login):
    phone = login(user)

    response = auth_api.delete(f"/api/v1/sessions/{phone.session.pk}")

    assert response.status_code == 204
    assert api.post(REFRESH, {"refresh": phone.refresh}, format="json").status_code == 401
    assert auth_api.get("/api/v1/me").status_code == 200


def test_deleting_another_users_session_is_404(auth_api, api, other_user, login):
    theirs = login(other_user)

    response = auth_api.delete(f"/api/v1/sessions/{theirs.session.pk}")

    assert response.status_code == 404
    assert response.json()["detail"]
    assert Session.objects.get(pk=theirs.session.pk).revoked_at is None
    assert api.post(REFRESH, {"refresh": theirs.refresh}, format="json").status_code == 200


def test_deleting_an_unknown_session_is_404_json(auth_api):
    assert auth_api.delete(f"/api/v1/sessions/{uuid.uuid4()}").status_code == 404
    response = auth_api.delete("/api/v1/sessions/not-a-uuid")
    assert response.status_code == 404
    assert response.json()["detail"]
