"""Every access token belongs to a session and dies with it, however the session ends; a
refresh retried within the grace is not theft (CONTRACT: "Sessions")."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tokens.models import RefreshToken, RevokedJti, Session
from tokens.selectors import hash_refresh_token

pytestmark = pytest.mark.django_db

REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/me"


def bearer(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def refresh(raw, fingerprint=None):
    body = {"refresh": raw} if fingerprint is None else {"refresh": raw, "fingerprint": fingerprint}
    return APIClient().post(REFRESH, body, format="json")


def me_status(access):
    return bearer(access).get(ME).status_code


# Access tokens die with their session


def test_logout_all_ends_the_access_tokens_of_every_session(auth_api, user, login):
    other = login(user)

    assert auth_api.post("/api/v1/auth/logout-all").status_code == 204

    assert me_status(auth_api.pair.access) == 401
    assert me_status(other.access) == 401


def test_deleting_a_session_ends_its_access_tokens_only(auth_api, user, login):
    other = login(user)

    response = auth_api.delete(f"/api/v1/sessions/{other.session.pk}")

    assert response.status_code == 204
    assert me_status(other.access) == 401
    assert me_status(auth_api.pair.access) == 200


def test_deleting_the_account_ends_its_access_tokens(auth_api, user, login):
    other = login(user)

    assert auth_api.delete(ME).status_code == 204

    assert me_status(auth_api.pair.access) == 401
    assert me_status(other.access) == 401


def test_a_session_past_its_absolute_lifetime_ends_its_access_tokens(user, login, settings):
    pair = login(user)
    assert me_status(pair.access) == 200
    Session.objects.filter(pk=pair.session.pk).update(
        created_at=timezone.now() - timedelta(days=settings.SESSION_MAX_AGE_DAYS, seconds=1)
    )

    assert me_status(pair.access) == 401
    assert refresh(pair.refresh).status_code == 401


def test_a_session_whose_refresh_token_expired_ends_its_access_tokens(user, login):
    pair = login(user)
    Session.objects.filter(pk=pair.session.pk).update(expires_at=timezone.now())

    assert me_status(pair.access) == 401


def test_rotation_never_renews_a_session_past_its_absolute_end(user, login, settings):
    pair = login(user)
    started = timezone.now() - timedelta(days=settings.SESSION_MAX_AGE_DAYS - 1)
    Session.objects.filter(pk=pair.session.pk).update(created_at=started)

    response = refresh(pair.refresh)

    assert response.status_code == 200
    session = Session.objects.get(pk=pair.session.pk)
    assert session.expires_at == started + timedelta(days=settings.SESSION_MAX_AGE_DAYS)


def test_a_login_session_lives_a_refresh_lifetime_when_that_is_shorter(user, login, settings):
    pair = login(user)

    session = Session.objects.get(pk=pair.session.pk)
    assert session.expires_at == session.created_at + timedelta(
        days=min(settings.REFRESH_TOKEN_TTL_DAYS, settings.SESSION_MAX_AGE_DAYS)
    )


# Refresh retry grace


@pytest.fixture
def grace(settings):
    settings.REFRESH_TOKEN_RETRY_GRACE_SECONDS = 30
    return settings


def test_without_a_grace_a_retry_is_theft(user, login):
    pair = login(user)
    lost = refresh(pair.refresh).json()

    retry = refresh(pair.refresh)

    assert retry.status_code == 401
    assert "revoked" in retry.json()["detail"]
    assert me_status(lost["access"]) == 401


def test_a_retry_within_the_grace_gets_a_new_pair_and_the_lost_pair_dies(user, login, grace):
    pair = login(user)
    lost = refresh(pair.refresh).json()

    retry = refresh(pair.refresh)

    assert retry.status_code == 200
    fresh = retry.json()
    assert fresh["refresh"] not in (pair.refresh, lost["refresh"])
    assert me_status(fresh["access"]) == 200
    # Only the newest pair is valid: the lost one, never used, is dead (and not theft).
    assert me_status(lost["access"]) == 401
    assert refresh(lost["refresh"]).status_code == 401
    assert Session.objects.get(pk=pair.session.pk).revoked_at is None
    assert refresh(fresh["refresh"]).status_code == 200


def test_the_grace_does_not_reach_a_token_two_rotations_old(user, login, grace):
    pair = login(user)
    refresh(pair.refresh)  # lost
    fresh = refresh(pair.refresh).json()  # the retry
    newer = refresh(fresh["refresh"]).json()  # the retried pair is used

    again = refresh(pair.refresh)

    assert again.status_code == 401
    assert "reused" in again.json()["detail"]
    assert Session.objects.get(pk=pair.session.pk).revoked_at is not None
    assert me_status(newer["access"]) == 401


def test_a_retry_after_the_successor_was_used_is_theft(user, login, grace):
    pair = login(user)
    successor = refresh(pair.refresh).json()
    used = refresh(successor["refresh"]).json()

    retry = refresh(pair.refresh)

    assert retry.status_code == 401
    assert me_status(used["access"]) == 401
    assert refresh(used["refresh"]).status_code == 401


def test_a_retry_after_the_grace_is_theft(user, login, grace):
    pair = login(user)
    lost = refresh(pair.refresh).json()
    RefreshToken.objects.filter(token_hash=hash_refresh_token(pair.refresh)).update(
        rotated_at=timezone.now() - timedelta(seconds=31)
    )

    retry = refresh(pair.refresh)

    assert retry.status_code == 401
    assert me_status(lost["access"]) == 401


def test_a_retry_from_another_fingerprint_is_theft(user, login, grace):
    pair = login(user, fingerprint="phone")
    lost = refresh(pair.refresh, fingerprint="phone").json()

    retry = refresh(pair.refresh, fingerprint="laptop")

    assert retry.status_code == 401
    assert me_status(lost["access"]) == 401
    assert refresh(lost["refresh"], fingerprint="phone").status_code == 401


def test_a_retry_with_the_same_fingerprint_is_a_retry(user, login, grace):
    pair = login(user, fingerprint="phone")
    refresh(pair.refresh, fingerprint="phone")

    retry = refresh(pair.refresh, fingerprint="phone")

    assert retry.status_code == 200
    assert me_status(retry.json()["access"]) == 200


def test_several_retries_each_replace_the_last(user, login, grace):
    pair = login(user)
    first = refresh(pair.refresh).json()
    second = refresh(pair.refresh).json()
    third = refresh(pair.refresh).json()

    assert [me_status(p["access"]) for p in (first, second, third)] == [401, 401, 200]
    assert RefreshToken.objects.filter(session=pair.session, rotated_at__isnull=True).count() == 1
    assert RevokedJti.objects.filter(user=user).count() == 2
