from datetime import timedelta

import pytest
from django.utils import timezone

from tests.tokens.queries import find_valid_refresh_token
from tokens import selectors, services
from tokens.access import decode_access_token, encode_access_token
from tokens.models import Session

pytestmark = pytest.mark.django_db


def test_find_valid_refresh_token_finds_the_current_token(user):
    pair = services.start_session(user=user)

    token = find_valid_refresh_token(raw_token=pair.refresh)

    assert token.session.user == user


def test_find_valid_refresh_token_skips_rotated_revoked_and_expired(user):
    rotated = services.start_session(user=user)
    services.rotate_refresh_token(raw_token=rotated.refresh)
    revoked = services.start_session(user=user)
    services.revoke_session(user=user, session_id=revoked.session.pk)
    expired = services.start_session(user=user)
    Session.objects.filter(pk=expired.session.pk).update(expires_at=timezone.now())

    for pair in (rotated, revoked, expired):
        assert find_valid_refresh_token(raw_token=pair.refresh) is None
    assert find_valid_refresh_token(raw_token="unknown") is None


def test_is_jti_revoked(user):
    services.revoke_jti(jti="gone", user=user, expires_at=timezone.now() + timedelta(minutes=1))

    assert selectors.is_jti_revoked(jti="gone") is True
    assert selectors.is_jti_revoked(jti="alive") is False


def test_list_sessions_shows_live_logins_most_recently_used_first(user, other_user):
    old = services.start_session(user=user, fingerprint="old-phone")
    new = services.start_session(user=user, fingerprint="laptop")
    ended = services.start_session(user=user)
    services.revoke_session(user=user, session_id=ended.session.pk)
    services.start_session(user=other_user)
    services.rotate_refresh_token(raw_token=old.refresh, fingerprint="old-phone")

    sessions = selectors.list_sessions(user=user)

    assert [s.pk for s in sessions] == [old.session.pk, new.session.pk]
    assert sessions[0].fingerprint == "old-phone"
    assert sessions[0].last_used_at > sessions[0].created_at


def test_an_access_token_revoked_on_its_own_is_refused_while_its_session_lives(user):
    pair = services.start_session(user=user)
    claims = decode_access_token(pair.access)
    assert selectors.find_user_of_access_token(claims=claims).access_revoked is False

    services.revoke_jti(jti=claims.jti, user=user, expires_at=claims.expires_at)

    found = selectors.find_user_of_access_token(claims=claims)
    assert found is not None and found.user == user
    assert found.access_revoked is True
    # Another token of the same session still passes.
    other = decode_access_token(
        encode_access_token(user_id=user.pk, session_id=claims.session_id, jti="another")
    )
    assert selectors.find_user_of_access_token(claims=other).access_revoked is False
