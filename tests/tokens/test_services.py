from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from tests.tokens.queries import find_valid_refresh_token
from tokens import services
from tokens.access import decode_access_token
from tokens.exceptions import InvalidRefreshToken, SessionNotFound
from tokens.models import RefreshToken, RevokedJti, Session
from tokens.selectors import find_user_of_access_token, hash_refresh_token

pytestmark = pytest.mark.django_db


def test_start_session_starts_a_session_and_stores_only_a_hash(user):
    pair = services.start_session(user=user, fingerprint="device-1")

    session = Session.objects.get(user=user)
    assert session.fingerprint == "device-1"
    token = RefreshToken.objects.get(session=session)
    assert token.token_hash == hash_refresh_token(pair.refresh)
    assert pair.refresh not in {token.token_hash, session.fingerprint}
    assert len(pair.refresh) >= 43  # 256 bits, base64url
    claims = decode_access_token(pair.access)
    assert claims.user_id == user.pk
    assert claims.session_id == session.pk


def test_rotation_issues_a_new_pair_in_the_same_session(user):
    first = services.start_session(user=user)

    second = services.rotate_refresh_token(raw_token=first.refresh)

    assert second.refresh != first.refresh
    assert second.session.pk == first.session.pk
    assert find_valid_refresh_token(raw_token=first.refresh) is None
    assert find_valid_refresh_token(raw_token=second.refresh).session_id == first.session.pk
    assert RefreshToken.objects.filter(session=first.session).count() == 2


def test_rotation_extends_the_session(user):
    first = services.start_session(user=user)
    Session.objects.filter(pk=first.session.pk).update(
        expires_at=timezone.now() + timedelta(minutes=1)
    )

    before = timezone.now()
    second = services.rotate_refresh_token(raw_token=first.refresh)

    session = Session.objects.get(pk=first.session.pk)
    assert session.expires_at > timezone.now() + timedelta(days=29)
    assert session.last_used_at > session.created_at
    # One instant, stored and read back to the microsecond, for all three writes.
    rotated = RefreshToken.objects.get(token_hash=hash_refresh_token(first.refresh))
    current = RefreshToken.objects.get(token_hash=hash_refresh_token(second.refresh))
    assert before <= rotated.rotated_at == current.created_at == session.last_used_at
    assert session.expires_at == session.last_used_at + timedelta(
        days=settings.REFRESH_TOKEN_TTL_DAYS
    )
    assert (session.last_used_at, session.expires_at) == (
        second.session.last_used_at,
        second.session.expires_at,
    )


def test_reused_refresh_token_revokes_the_whole_session(user):
    first = services.start_session(user=user)
    second = services.rotate_refresh_token(raw_token=first.refresh)

    with pytest.raises(InvalidRefreshToken, match="reused; its session has been revoked"):
        services.rotate_refresh_token(raw_token=first.refresh)

    assert Session.objects.get(pk=first.session.pk).revoked_at is not None
    with pytest.raises(InvalidRefreshToken, match="revoked"):
        services.rotate_refresh_token(raw_token=second.refresh)


def test_reuse_leaves_the_users_other_sessions_alive(user):
    phone = services.start_session(user=user)
    laptop = services.start_session(user=user)
    services.rotate_refresh_token(raw_token=phone.refresh)

    with pytest.raises(InvalidRefreshToken):
        services.rotate_refresh_token(raw_token=phone.refresh)

    assert services.rotate_refresh_token(raw_token=laptop.refresh).session.pk == laptop.session.pk


def test_unknown_refresh_token_is_refused(db):
    with pytest.raises(InvalidRefreshToken):
        services.rotate_refresh_token(raw_token="not-a-token")


def test_expired_refresh_token_is_refused(user):
    pair = services.start_session(user=user)
    Session.objects.filter(pk=pair.session.pk).update(expires_at=timezone.now())

    with pytest.raises(InvalidRefreshToken, match="expired"):
        services.rotate_refresh_token(raw_token=pair.refresh)


def test_refresh_token_bound_to_a_fingerprint_works_with_it(user):
    pair = services.start_session(user=user, fingerprint="device-1")

    assert services.rotate_refresh_token(raw_token=pair.refresh, fingerprint="device-1")


@pytest.mark.parametrize("fingerprint", ["device-2", None, ""])
def test_refresh_with_another_fingerprint_revokes_the_session(user, fingerprint):
    pair = services.start_session(user=user, fingerprint="device-1")

    with pytest.raises(InvalidRefreshToken, match="another fingerprint; its session has been"):
        services.rotate_refresh_token(raw_token=pair.refresh, fingerprint=fingerprint)

    # A stolen token cannot be tried against guessed fingerprints: the first guess ends it.
    assert Session.objects.get(pk=pair.session.pk).revoked_at is not None
    with pytest.raises(InvalidRefreshToken, match="revoked"):
        services.rotate_refresh_token(raw_token=pair.refresh, fingerprint="device-1")


def test_unbound_refresh_token_ignores_the_fingerprint(user):
    pair = services.start_session(user=user)

    assert services.rotate_refresh_token(raw_token=pair.refresh, fingerprint="anything")


def test_refresh_of_a_disabled_user_is_refused(user):
    pair = services.start_session(user=user)
    user.is_active = False
    user.save()

    with pytest.raises(InvalidRefreshToken, match="disabled"):
        services.rotate_refresh_token(raw_token=pair.refresh)


def test_revoke_refresh_token_ends_its_session_for_its_owner_only(user, other_user):
    pair = services.start_session(user=user)

    assert services.revoke_refresh_token(user=other_user, raw_token=pair.refresh) is False
    assert find_valid_refresh_token(raw_token=pair.refresh) is not None

    assert services.revoke_refresh_token(user=user, raw_token=pair.refresh) is True
    assert find_valid_refresh_token(raw_token=pair.refresh) is None


def test_revoke_session_of_another_user_is_not_found(user, other_user):
    pair = services.start_session(user=user)

    with pytest.raises(SessionNotFound):
        services.revoke_session(user=other_user, session_id=pair.session.pk)
    assert find_valid_refresh_token(raw_token=pair.refresh) is not None

    services.revoke_session(user=user, session_id=pair.session.pk)
    assert find_valid_refresh_token(raw_token=pair.refresh) is None


def test_revoke_sessions_of_user_spares_other_users(user, other_user):
    mine = [services.start_session(user=user) for _ in range(3)]
    theirs = services.start_session(user=other_user)

    assert services.revoke_sessions_of_user(user=user) == 3

    assert all(find_valid_refresh_token(raw_token=p.refresh) is None for p in mine)
    assert find_valid_refresh_token(raw_token=theirs.refresh) is not None


def test_revoke_sessions_ends_the_given_sessions(user, other_user):
    a = services.start_session(user=user)
    b = services.start_session(user=other_user)
    c = services.start_session(user=user)

    assert services.revoke_sessions(session_ids=[a.session.pk, b.session.pk]) == 2

    assert find_valid_refresh_token(raw_token=a.refresh) is None
    assert find_valid_refresh_token(raw_token=b.refresh) is None
    assert find_valid_refresh_token(raw_token=c.refresh) is not None


def test_revoke_jti_twice_is_harmless(user):
    expires = timezone.now() + timedelta(minutes=5)
    services.revoke_jti(jti="abc", user=user, expires_at=expires)
    services.revoke_jti(jti="abc", user=user, expires_at=expires)

    assert RevokedJti.objects.filter(jti="abc").count() == 1


def test_logout_ends_the_access_token_with_its_session(user):
    pair = services.start_session(user=user)
    other = services.start_session(user=user)

    services.logout(user=user, claims=decode_access_token(pair.access))

    assert find_user_of_access_token(claims=decode_access_token(pair.access)) is None
    assert find_user_of_access_token(claims=decode_access_token(other.access)) is not None
    assert find_valid_refresh_token(raw_token=pair.refresh) is None
    assert find_valid_refresh_token(raw_token=other.refresh) is not None


def test_logout_all_ends_every_session(user):
    pairs = [services.start_session(user=user) for _ in range(2)]

    services.logout_all(user=user, claims=decode_access_token(pairs[0].access))

    assert all(find_valid_refresh_token(raw_token=p.refresh) is None for p in pairs)
    assert all(
        find_user_of_access_token(claims=decode_access_token(p.access)) is None for p in pairs
    )


def test_purge_deletes_only_expired_sessions_and_jtis_in_batches(user):
    now = timezone.now()
    expired = [services.start_session(user=user) for _ in range(5)]
    live = services.start_session(user=user)
    Session.objects.filter(pk__in=[p.session.pk for p in expired]).update(
        expires_at=now - timedelta(seconds=1)
    )
    services.revoke_jti(jti="old", user=user, expires_at=now - timedelta(seconds=1))
    services.revoke_jti(jti="new", user=user, expires_at=now + timedelta(minutes=5))
    batches = []

    counts = services.purge_expired_tokens(
        batch_size=2, progress=lambda label, done: batches.append((label, done))
    )

    assert counts == {"sessions": 5, "rotated_refresh_tokens": 0, "revoked_jtis": 1}
    assert ("sessions", 2) in batches and ("sessions", 4) in batches and ("sessions", 5) in batches
    assert list(Session.objects.values_list("pk", flat=True)) == [live.session.pk]
    assert RefreshToken.objects.filter(session__in=[p.session.pk for p in expired]).count() == 0
    assert list(RevokedJti.objects.values_list("jti", flat=True)) == ["new"]


def test_purge_removes_rotated_tokens_older_than_the_refresh_lifetime(user, settings):
    pair = services.start_session(user=user)
    raw = pair.refresh
    for _ in range(3):
        raw = services.rotate_refresh_token(raw_token=raw).refresh
    rotated = RefreshToken.objects.filter(session=pair.session, rotated_at__isnull=False)
    old = list(rotated.order_by("pk").values_list("pk", flat=True)[:2])
    RefreshToken.objects.filter(pk__in=old).update(
        rotated_at=timezone.now() - timedelta(days=settings.REFRESH_TOKEN_TTL_DAYS, seconds=1)
    )

    counts = services.purge_expired_tokens()

    assert counts["rotated_refresh_tokens"] == 2
    assert rotated.count() == 1
    # The session and its current token live on.
    assert services.rotate_refresh_token(raw_token=raw).session.pk == pair.session.pk
